"""End-to-end tests of ``kmlint server``: a pytest-lsp client drives the real
server process over stdio."""

from __future__ import annotations

import asyncio
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from kmlint.docs import rule_url
from kmlint.registry import get_rule
from tests.helpers import ROOT
from tests.lsp_support import (
    TIMEOUT, apply_edits, code_actions, edits_by_uri, initialize, next_publish, offered_actions, open_python,
    plain_capabilities, replace_all, server_config,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

BAD = "import numpy as np\nmodel.fit_generator(batches(), steps_per_epoch=10)\n"
CLEAN = "import numpy as np\nmodel.fit(batches(), steps_per_epoch=10)\n"


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client)  # the default debounce
    yield
    await lsp_client.shutdown_session()


def line_range(line: int) -> types.Range:
    return types.Range(types.Position(line, 0), types.Position(line, 200))


async def test_diagnostics_follow_the_buffer(client: LanguageClient, tmp_path):
    uri = open_python(client, tmp_path / "train.py", BAD)
    (diag,) = await next_publish(client, uri, 1)
    assert diag.code == "KM201"
    assert diag.source == "kmlint"
    assert diag.severity == types.DiagnosticSeverity.Warning
    assert diag.code_description.href == rule_url(get_rule("KM201"))
    assert "deprecated-generator-api" in diag.message and "`fit_generator`" in diag.message
    assert diag.range == types.Range(types.Position(1, 6), types.Position(1, 19))

    # incremental change: the unsaved buffer is linted, not the (missing) file
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangePartial(range=types.Range(types.Position(1, 6), types.Position(1, 19)), text="fit")]))
    assert await next_publish(client, uri, 2) == []

    # columns are UTF-16 code units: the emoji counts twice
    replace_all(client, uri, 3, 'x = "\U0001F600"; model.predict_generator(g)\n')
    (diag,) = await next_publish(client, uri, 3)
    assert (diag.range.start.character, diag.range.end.character) == (16, 33)  # code points: 15, 32

    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    assert len(await next_publish(client, uri, 3)) == 1

    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    assert await next_publish(client, uri) == []


async def test_a_burst_of_edits_publishes_only_the_last_version(client: LanguageClient, tmp_path):
    uri = open_python(client, tmp_path / "typing.py", CLEAN)
    assert await next_publish(client, uri, 1) == []
    first = len(client.published)
    for version in range(2, 12):
        replace_all(client, uri, version, BAD if version == 11 else CLEAN + f"# {version}\n")
    (diag,) = await next_publish(client, uri, 11)
    assert diag.code == "KM201"
    # the earlier versions fell inside the debounce window, or their results
    # came back after the buffer had moved on: nothing stale is published
    assert [p.version for p in client.published[first:] if p.uri == uri] == [11]


async def test_unparsable_buffer_is_a_diagnostic(client: LanguageClient, tmp_path):
    uri = open_python(client, tmp_path / "broken.py", "def f(:\n    pass\n")
    (diag,) = await next_publish(client, uri, 1)
    assert diag.code == "KM901"
    assert diag.severity == types.DiagnosticSeverity.Error
    replace_all(client, uri, 2, BAD)
    assert [d.code for d in await next_publish(client, uri, 2)] == ["KM201"]


async def test_python_files_only(client: LanguageClient, tmp_path):
    probe = open_python(client, tmp_path / "probe.py", BAD)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem((tmp_path / "notes.md").as_uri(), "markdown", 1, BAD)))
    replace_all(client, probe, 2, BAD + "\n")
    # the server answers in order: had it linted the markdown file, that came first
    await next_publish(client, probe, 2)
    assert (tmp_path / "notes.md").as_uri() not in client.diagnostics


def notebook_open_params(nb_uri: str, cells: list[tuple[types.NotebookCellKind, str]]):
    items, docs = [], []
    for i, (kind, text) in enumerate(cells):
        cell_uri = f"vscode-notebook-cell:{nb_uri[len('file:'):]}#C{i}"
        items.append(types.NotebookCell(kind=kind, document=cell_uri))
        docs.append(types.TextDocumentItem(cell_uri, "python" if kind == types.NotebookCellKind.Code else "markdown", 1, text))
    params = types.DidOpenNotebookDocumentParams(
        types.NotebookDocument(uri=nb_uri, notebook_type="jupyter-notebook", version=1, cells=items), docs)
    return params, [d.uri for d in docs]


async def test_notebook_cells(client: LanguageClient, tmp_path):
    nb_uri = (tmp_path / "explore.ipynb").as_uri()
    code, markup = types.NotebookCellKind.Code, types.NotebookCellKind.Markup
    params, cells = notebook_open_params(nb_uri, [
        (code, "class ImageDataGenerator:\n    pass\n"),
        (markup, "# model.fit_generator(x) in prose is not code"),
        (code, "%matplotlib inline\ngen = ImageDataGenerator()\nmodel.fit_generator(gen)"),
    ])
    client.notebook_document_did_open(params)
    diags = await next_publish(client, cells[2])
    # names are shared across cells: ImageDataGenerator is the class from cell 0, not Keras'
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diags] == [("KM201", 2, 6)]
    assert client.diagnostics.get(cells[0]) == [] or not client.diagnostics.get(cells[0])

    # the fix edits the cell, and only the cell
    (fix,) = [a for a in await code_actions(client, cells[2], line_range(2)) if a.title.startswith("KM201")]
    edits = edits_by_uri(fix.edit)
    assert list(edits) == [cells[2]]
    fixed = apply_edits("%matplotlib inline\ngen = ImageDataGenerator()\nmodel.fit_generator(gen)", edits[cells[2]])
    assert fixed == "%matplotlib inline\ngen = ImageDataGenerator()\nmodel.fit(gen)"
    # so does fix all (the CLI's fixer, which keeps the magic)
    (fix_all,) = await code_actions(client, cells[0], line_range(0), only=[types.CodeActionKind.SourceFixAll])
    edits = edits_by_uri(fix_all.edit)
    assert list(edits) == [cells[2]]
    assert apply_edits("%matplotlib inline\ngen = ImageDataGenerator()\nmodel.fit_generator(gen)", edits[cells[2]]) == fixed

    # editing cell 0 changes what cell 2 means
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        types.VersionedNotebookDocumentIdentifier(version=2, uri=nb_uri),
        types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cells[0], version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(
                    text="from keras.preprocessing.image import ImageDataGenerator\n")])]))))
    diags = await next_publish(client, cells[2])
    assert sorted((d.code, d.range.start.line) for d in diags) == [("KM201", 2), ("KM206", 1)]

    # deleting the cell takes its diagnostics with it
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        types.VersionedNotebookDocumentIdentifier(version=3, uri=nb_uri),
        types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=2, delete_count=1),
                did_close=[types.TextDocumentIdentifier(cells[2])])))))
    assert await next_publish(client, cells[2]) == []

    client.notebook_document_did_close(types.DidCloseNotebookDocumentParams(
        types.NotebookDocumentIdentifier(nb_uri), [types.TextDocumentIdentifier(c) for c in cells[:2]]))
    assert await next_publish(client, cells[0]) == []


async def test_fix_actions_apply_to_the_document(client: LanguageClient, tmp_path):
    text = ("from tensorflow import keras\n"
            "model.fit_generator(gen, steps_per_epoch=4)\n"
            "preds = model.predict_generator(\n    gen,\n    workers=4,\n)\n")
    uri = open_python(client, tmp_path / "fixme.py", text)
    assert len(await next_publish(client, uri, 1)) == 2

    actions = await code_actions(client, uri, line_range(1))
    (safe,) = [a for a in actions if a.title.startswith("KM201")]
    assert safe.kind == types.CodeActionKind.QuickFix and safe.is_preferred
    assert safe.diagnostics[0].code == "KM201"
    (change,) = safe.edit.document_changes
    assert change.text_document.version == 1  # the client rejects it if the buffer moved on
    fixed = apply_edits(text, change.edits)
    assert fixed.splitlines()[1] == "model.fit(gen, steps_per_epoch=4)"

    (unsafe,) = [a for a in await code_actions(client, uri, line_range(2)) if a.title.startswith("KM201")]
    assert "unsafe" in unsafe.title and not unsafe.is_preferred
    assert apply_edits(text, edits_by_uri(unsafe.edit)[uri]).endswith("preds = model.predict(\n    gen,\n)\n")

    # fix all applies the safe fix and leaves the unsafe one
    (fix_all,) = await code_actions(client, uri, line_range(0), only=[types.CodeActionKind.SourceFixAll])
    assert fix_all.kind == "source.fixAll.kmlint"
    all_fixed = apply_edits(text, edits_by_uri(fix_all.edit)[uri])
    assert all_fixed == fixed

    replace_all(client, uri, 2, all_fixed)
    assert [d.range.start.line for d in await next_publish(client, uri, 2)] == [2]


async def test_fix_edits_are_computed_when_picked(client: LanguageClient, tmp_path):
    uri = open_python(client, tmp_path / "lazy.py", BAD)
    await next_publish(client, uri, 1)
    (offered,) = [a for a in await offered_actions(client, uri, line_range(1)) if a.title.startswith("KM201")]
    assert offered.edit is None and offered.data is not None  # left to codeAction/resolve
    resolved = await asyncio.wait_for(client.code_action_resolve_async(offered), TIMEOUT)
    assert apply_edits(BAD, edits_by_uri(resolved.edit)[uri]) == CLEAN
    # picked after the buffer changed: no edit rather than one at stale positions
    replace_all(client, uri, 2, "\n" + BAD)
    await next_publish(client, uri, 2)
    stale = await asyncio.wait_for(client.code_action_resolve_async(offered), TIMEOUT)
    assert stale.edit is None


@pytest_lsp.fixture(config=server_config(), scope="module")
async def plain_client(lsp_client: LanguageClient):
    await initialize(lsp_client, debounce_ms=0, caps=plain_capabilities())
    yield
    await lsp_client.shutdown_session()


async def test_clients_without_resolve_get_edits_in_the_action(plain_client: LanguageClient, tmp_path):
    uri = open_python(plain_client, tmp_path / "eager.py", BAD)
    await next_publish(plain_client, uri, 1)
    actions = await offered_actions(plain_client, uri, line_range(1))
    assert {a.title for a in actions} == {"KM201: Replace with `fit`", "Ignore KM201 on this line"}
    (fix,) = [a for a in actions if a.title.startswith("KM201")]
    assert apply_edits(BAD, fix.edit.changes[uri]) == CLEAN
    # fix all runs the fixer: offered when asked for by kind, not at every cursor move
    (fix_all,) = await offered_actions(plain_client, uri, line_range(0), only=["source.fixAll"])
    assert apply_edits(BAD, fix_all.edit.changes[uri]) == CLEAN


async def test_ignore_action_adds_noqa(client: LanguageClient, tmp_path):
    text = ("model.fit_generator(gen)  # train\n"
            "from keras.preprocessing.image import ImageDataGenerator\n"
            "g = ImageDataGenerator(); model.evaluate_generator(g)  # noqa: KM206\n")
    uri = open_python(client, tmp_path / "quiet.py", text)
    assert len(await next_publish(client, uri, 1)) == 2

    def ignore(actions):
        (action,) = [a for a in actions if a.title.startswith("Ignore")]
        return apply_edits(text, edits_by_uri(action.edit)[uri])

    assert ignore(await code_actions(client, uri, line_range(0))).splitlines()[0] == \
        "model.fit_generator(gen)  # train  # noqa: KM201"
    extended = ignore(await code_actions(client, uri, line_range(2)))
    assert extended.splitlines()[2] == "g = ImageDataGenerator(); model.evaluate_generator(g)  # noqa: KM206, KM201"

    replace_all(client, uri, 2, extended)
    assert [d.range.start.line for d in await next_publish(client, uri, 2)] == [0]


async def test_hover_explains_the_rule(client: LanguageClient, tmp_path):
    uri = open_python(client, tmp_path / "hover.py", BAD)
    await next_publish(client, uri, 1)
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(1, 10)))
    text = hover.contents.value
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "**KM201**" in text and "**What it does**" in text and "**Why is this bad?**" in text
    assert "Keras 3 removed them" in text  # from the dossier's README
    assert rule_url(get_rule("KM201")) in text
    assert "Example" not in text
    nothing = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 3)))
    assert nothing is None


async def test_survives_malformed_messages(client: LanguageClient, tmp_path):
    uri = open_python(client, tmp_path / "alive.py", BAD)
    await next_publish(client, uri, 1)
    writer = client.protocol.writer
    for body in (b"{this is not json", b'"just a string"', b"[1, 2]", b'{"jsonrpc": "2.0", "method": 12}'):
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    writer.write(b"garbage without headers\r\n\r\n")
    # a request whose params do not decode gets an error answer, not silence
    answer = asyncio.get_running_loop().create_future()
    client.protocol._request_futures["bad-hover"] = answer
    body = b'{"jsonrpc": "2.0", "id": "bad-hover", "method": "textDocument/hover", "params": {"textDocument": 3}}'
    writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    with pytest.raises(JsonRpcException, match="(?i)invalid params"):
        await asyncio.wait_for(answer, TIMEOUT)
    with pytest.raises(Exception, match="(?i)not found"):
        await asyncio.wait_for(client.protocol.send_request_async("kmlint/noSuchMethod", {}), TIMEOUT)
    # and the session goes on
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(1, 10)))
    assert "KM201" in hover.contents.value
    replace_all(client, uri, 2, CLEAN)
    assert await next_publish(client, uri, 2) == []


async def test_config_reload(client: LanguageClient, tmp_path):
    assert {r.method for r in client.registrations} == {types.WORKSPACE_DID_CHANGE_WATCHED_FILES}
    globs = {w["globPattern"] for r in client.registrations for w in r.register_options["watchers"]}
    assert globs == {"**/pyproject.toml", "**/kmlint.toml", "**/.kmlint.toml"}

    text = "from keras.preprocessing.image import ImageDataGenerator\ng = ImageDataGenerator()\nmodel.fit_generator(g)\n"
    uri = open_python(client, tmp_path / "pkg" / "a.py", text)
    assert sorted(d.code for d in await next_publish(client, uri, 1)) == ["KM201", "KM206"]
    other = open_python(client, tmp_path / "b.py", text)
    assert len(await next_publish(client, other, 1)) == 2

    # the editor reports the change: every open document is linted again
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.kmlint]\nignore = ["KM201"]\n')
    since = len(client.published)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(pyproject.as_uri(), types.FileChangeType.Created)]))
    assert [d.code for d in await next_publish(client, uri, 1, since)] == ["KM206"]
    assert [d.code for d in await next_publish(client, other, 1, since)] == ["KM206"]

    # no notification (an editor without file watching): the next lint sees
    # the new file, and the other open documents are linted again too
    (tmp_path / "kmlint.toml").write_text('ignore = ["KM206"]\n')
    since = len(client.published)
    replace_all(client, uri, 2, text)
    assert [d.code for d in await next_publish(client, uri, 2, since)] == ["KM201"]
    assert [d.code for d in await next_publish(client, other, 1, since)] == ["KM201"]
    (tmp_path / "kmlint.toml").unlink()

    # a broken config is reported, not linted with, and the server goes on
    pyproject.write_text('[tool.kmlint]\nignore = ["KM201"]\nno-such-key = 1\n')
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(pyproject.as_uri(), types.FileChangeType.Changed)]))
    assert await next_publish(client, other, 1) == []
    assert any("no-such-key" in m.message and m.type == types.MessageType.Error for m in client.messages)
    pyproject.write_text("[tool.kmlint]\n")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(pyproject.as_uri(), types.FileChangeType.Changed)]))
    assert len(await next_publish(client, other, 1)) == 2


@pytest_lsp.fixture(config=server_config(sys.executable, "-m", "tests.lsp_crashing_server"), scope="module")
async def crashing(lsp_client: LanguageClient):
    await initialize(lsp_client, debounce_ms=0)
    yield
    await lsp_client.shutdown_session()


async def test_crashes_are_logged_and_the_session_goes_on(crashing: LanguageClient, tmp_path):
    text = "from keras.preprocessing.image import ImageDataGenerator\ng = ImageDataGenerator()\nmodel.fit_generator(g)\n"
    uri = open_python(crashing, tmp_path / "a.py", text)
    # KM201 crashes on this file: logged, and the other rules still report
    assert [d.code for d in await next_publish(crashing, uri, 1)] == ["KM206"]
    assert any("KM201" in m.message and "crashed" in m.message for m in crashing.log_messages)

    # the whole engine fails on this buffer: logged, nothing published for it
    replace_all(crashing, uri, 2, "ENGINE_CRASH = 1\n" + text)
    while not any("engine bug for the test" in m.message for m in crashing.log_messages):
        await asyncio.wait_for(crashing.wait_for_notification(types.WINDOW_LOG_MESSAGE), TIMEOUT)
    replace_all(crashing, uri, 3, text + "x = 1\n")
    assert [d.code for d in await next_publish(crashing, uri, 3)] == ["KM206"]
    assert [p.version for p in crashing.published if p.uri == uri] == [1, 3]
    hover = await crashing.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(1, 5)))
    assert "KM206" in hover.contents.value


async def test_a_buffer_that_kills_the_parser_does_not_kill_the_server(client: LanguageClient, tmp_path):
    # libcst's native parser overflows its stack on nesting this deep: that
    # costs the lint worker, which the server replaces
    deep = "model.fit_generator(g)\nx = " + "(" * 20000 + "1" + ")" * 20000 + "\n"
    uri = open_python(client, tmp_path / "deep.py", deep)
    replace_all(client, uri, 2, BAD)
    assert [d.code for d in await next_publish(client, uri, 2)] == ["KM201"]
    (fix,) = [a for a in await code_actions(client, uri, line_range(1)) if a.title.startswith("KM201")]
    assert apply_edits(BAD, edits_by_uri(fix.edit)[uri]) == CLEAN


@pytest_lsp.fixture(config=server_config(), scope="module")
async def on_save_client(lsp_client: LanguageClient):
    await initialize(lsp_client, debounce_ms=0, run="onSave")  # the VS Code extension's "kmlint.run": "onSave"
    yield
    await lsp_client.shutdown_session()


async def test_run_on_save_lints_on_open_and_save_not_on_typing(on_save_client: LanguageClient, tmp_path):
    client = on_save_client
    uri = open_python(client, tmp_path / "saved.py", BAD)
    (diag,) = await next_publish(client, uri, 1)
    assert diag.code == "KM201"
    since = len(client.published)
    replace_all(client, uri, 2, CLEAN)
    await asyncio.sleep(1.0)  # linting on type (debounce 0) would have published by now
    assert [p for p in client.published[since:] if p.uri == uri] == []
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    assert await next_publish(client, uri, 2, since=since) == []
