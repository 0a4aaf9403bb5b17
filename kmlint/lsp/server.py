"""``kmlint server``: the language server (LSP over stdio, built on pygls).

Lints the unsaved buffer on open, on change (debounced) and on save and
publishes diagnostics (with the initialization option ``"run": "onSave"``,
like Ruff's ``lint.run``, only on open and save).  A notebook is linted as one module, its code cells
joined in order as the CLI does, and its diagnostics are published per cell.
Linting happens in a worker process (kmlint.lsp.worker), from immutable
snapshots, so the event loop keeps answering the editor; a result for a buffer
that changed meanwhile is dropped.  Nothing the user wrote is ever executed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Optional
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from kmlint import __version__
from kmlint.config import CONFIG_FILES, ConfigError
from kmlint.engine.linter import INTERNAL_ERROR, PARSE_ERROR
from kmlint.findings import SAFE
from kmlint.lsp import convert, worker
from kmlint.lsp.worker import Edits, Entry, Linted, Snapshot


class WorkerDied(Exception):
    """The lint worker died on a call, and again on a new worker."""


def crashed_lint(snap: Snapshot) -> Linted:
    """What is shown for a buffer that kills the lint worker: one error
    diagnostic (KM000) at its top, like the CLI's finding for such a file."""
    from kmlint.findings import Finding

    finding = Finding(INTERNAL_ERROR, "internal-error",
                      "kmlint crashed while analysing this buffer (the lint worker died twice on it: a crash in a "
                      "native extension such as the parser, or out of memory); nothing else is reported for it",
                      snap.path, severity="error")
    rng = types.Range(types.Position(0, 0), types.Position(0, 0))
    linted = Linted(snap, diagnostics={uri: [] for uri, _, _ in snap.documents})
    first = snap.documents[0][0] if snap.documents else snap.uri
    linted.diagnostics.setdefault(first, []).append(convert.diagnostic(finding, rng))
    return linted

log = logging.getLogger("kmlint.lsp")

DEFAULT_DEBOUNCE_SECONDS = 0.15
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.kmlint"
PYTHON_SUFFIXES = (".py", ".pyi")
CONFIG_GLOBS = [f"**/{name}" for name in CONFIG_FILES]


class KmlintProtocol(LanguageServerProtocol):
    """Answers a request it cannot even decode with an error instead of
    leaving the client waiting; the session goes on either way."""

    _UNDECODABLE = object()

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], None, error.to_response_error())
            return self._UNDECODABLE

    def handle_message(self, message):
        if message is self._UNDECODABLE:
            return
        super().handle_message(message)


class KmlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "kmlint", __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[types.NotebookDocumentFilterWithCells(
                    notebook="*", cells=[types.NotebookCellLanguage(language="python")])],
                save=True,
            ),
            protocol_cls=KmlintProtocol,
        )
        self.debounce = DEFAULT_DEBOUNCE_SECONDS
        self.lint_on_type = True  # initialization option "run": "onType" (default) or "onSave"
        self._worker: Optional[ProcessPoolExecutor] = None
        self._text_documents: set[str] = set()  # open Python documents we lint
        self._pending: dict[str, asyncio.Task] = {}
        self._results: dict[str, Linted] = {}
        self._shown_errors: set[str] = set()

    # ------------------------------------------------------------ reporting

    def report_server_error(self, error: Exception, source) -> None:
        # pygls would pop up a message per error; a linter logs and goes on
        self.log_error(f"{source.__name__}: {error}")

    def log_error(self, message: str) -> None:
        log.error("%s", message)
        try:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=message))
        except Exception:  # the client is gone: stderr has it
            pass

    def show_error_once(self, message: str) -> None:
        self.log_error(message)
        if message not in self._shown_errors:
            self._shown_errors.add(message)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"kmlint: {message}"))

    # ------------------------------------------------------------ the worker process

    async def in_worker(self, fn, *args, strict: bool = False):
        """Run ``fn`` (a kmlint.lsp.worker function) in the worker process.
        If the worker dies, the call is tried once more on a new one (what
        killed it may have been another call); None if that dies too."""
        for attempt in (1, 2):
            if self._worker is None:
                # spawn, not fork: this process has threads (pygls reads stdin on one).
                # The worker dies with the server (SIGKILL of the server left it running).
                self._worker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                   initializer=worker.die_with_parent, initargs=(os.getpid(),))
            pool = self._worker
            try:
                return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
            except BrokenProcessPool:
                if self._worker is pool:
                    self._worker = None
                    pool.shutdown(wait=False)
                what = f"the lint worker died during {fn.__name__}{_describe(args)}"
                self.log_error(f"{what}; trying again on a new one" if attempt == 1 else f"{what} again; giving up on it")
        if strict:
            raise WorkerDied(f"the lint worker died twice during {fn.__name__}")
        return None

    def stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = None

    # ------------------------------------------------------------ documents

    def is_linted_document(self, doc: types.TextDocumentItem) -> bool:
        if doc.language_id:
            return doc.language_id == "python"
        return (to_fs_path(doc.uri) or doc.uri).endswith(PYTHON_SUFFIXES)

    def _document(self, uri: str):
        return self.workspace.text_documents.get(unquote(uri))

    def _fs_path(self, uri: str, default_name: str) -> str:
        path = to_fs_path(uri)
        if path is None:  # untitled:, vscode-notebook: ...: configure like the workspace root
            root = self.workspace.root_path or os.getcwd()
            path = os.path.join(root, uri.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or default_name)
        return path

    def snapshot(self, uri: str) -> Optional[Snapshot]:
        encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is not None:
            return self._notebook_snapshot(notebook, encoding)
        doc = self._document(uri)
        if doc is None or uri not in self._text_documents:
            return None
        path = self._fs_path(uri, "untitled.py")
        if path.endswith(".ipynb"):
            path += ".py"  # a notebook flattened to Python by the client (jupyterlab-lsp)
        return Snapshot(uri, doc.version, path, doc.source, ((uri, doc.source, doc.version),), encoding)

    def _notebook_snapshot(self, notebook: types.NotebookDocument, encoding: str) -> Snapshot:
        cells, documents = [], []
        for cell in notebook.cells:
            doc = self._document(cell.document)
            text = doc.source if doc is not None else ""
            python = cell.kind == types.NotebookCellKind.Code and (doc is None or doc.language_id in (None, "", "python"))
            cells.append({"cell_type": "code" if python else "raw", "source": text, "metadata": {}})
            documents.append((cell.document, text, doc.version if doc is not None else None))
        path = self._fs_path(notebook.uri, "notebook.ipynb")
        if not path.endswith(".ipynb"):
            path += ".ipynb"
        source = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        return Snapshot(notebook.uri, notebook.version, path, source, tuple(documents), encoding)

    def target_of(self, uri: str) -> str:
        """The unit that is linted for a document: its notebook, or itself."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        return notebook.uri if notebook is not None else uri

    def current_version(self, target: str) -> Optional[int]:
        notebook = self.workspace.get_notebook_document(notebook_uri=target)
        if notebook is not None:
            return notebook.version
        doc = self._document(target)
        return doc.version if doc is not None else None

    def open_targets(self) -> list[str]:
        return sorted(self._text_documents) + [nb.uri for nb in self.workspace.notebook_documents.values()]

    # ------------------------------------------------------------ linting

    async def run_lint(self, snap: Snapshot) -> Optional[Linted]:
        try:
            linted = await self.in_worker(worker.lint, snap, strict=True)
        except WorkerDied:
            # a native crash (or out of memory) on this buffer: show it on the
            # buffer, as the CLI reports the file's KM000, instead of nothing
            return crashed_lint(snap)
        except ConfigError as e:
            self.show_error_once(str(e))
            return Linted(snap, diagnostics={uri: [] for uri, _, _ in snap.documents})
        except Exception:
            self.log_error(f"linting {snap.path} failed:\n{traceback.format_exc()}")
            return None
        for crash in linted.crashes if linted is not None else ():
            self.log_error(crash)
        return linted

    def schedule(self, target: str, delay: float = 0, again: bool = True) -> None:
        """Lint ``target`` after ``delay`` seconds of quiet; ``again=False``
        skips it if this version was linted meanwhile (for a code action)."""
        previous = self._pending.pop(target, None)
        if previous is not None:
            previous.cancel()
        self._pending[target] = asyncio.ensure_future(self._lint_and_publish(target, delay, again))

    async def _lint_and_publish(self, target: str, delay: float, again: bool) -> None:
        if delay:
            await asyncio.sleep(delay)
        linted = self._results.get(target)
        if not again and linted is not None and linted.snapshot.version == self.current_version(target):
            return
        await self.lint_now(target)

    async def lint_now(self, target: str) -> Optional[Linted]:
        snap = self.snapshot(target)
        if snap is None:
            return None
        linted = await self.run_lint(snap)
        if linted is None or self.current_version(target) != snap.version:
            return None  # the buffer moved on; its own lint is on the way
        previous = self._results.get(target)
        self._results[target] = linted
        self.publish(linted, previous)
        if linted.config_changed:
            for other in self.open_targets():
                if other != target:
                    self.schedule(other, 0)
        return linted

    async def fresh_result(self, target: str) -> Optional[Linted]:
        """The lint of the buffer as it is now (code actions must never edit
        from stale positions)."""
        linted = self._results.get(target)
        if linted is not None and linted.snapshot.version == self.current_version(target):
            return linted
        return await self.lint_now(target)

    def publish(self, linted: Linted, previous: Optional[Linted] = None) -> None:
        versions = linted.snapshot.versions
        for uri, diagnostics in linted.diagnostics.items():
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=versions.get(uri)))
        if previous is not None:  # cells deleted since the last lint
            for uri in previous.diagnostics.keys() - linted.diagnostics.keys():
                self.clear(uri)

    def clear(self, uri: str) -> None:
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def forget(self, target: str) -> None:
        task = self._pending.pop(target, None)
        if task is not None:
            task.cancel()
        linted = self._results.pop(target, None)
        for uri in (linted.diagnostics if linted is not None else [target]):
            self.clear(uri)
        if self._worker is not None:
            asyncio.ensure_future(self.in_worker(worker.forget, target))

    def config_changed(self) -> None:
        async def reset_and_relint() -> None:
            await self.in_worker(worker.reset_config)
            for target in self.open_targets():
                self.schedule(target, 0)

        asyncio.ensure_future(reset_and_relint())

    # ------------------------------------------------------------ code actions

    def lazy_edits(self) -> bool:
        """Whether the client fills in an action's edit on demand (codeAction/resolve)."""
        caps = self.client_capabilities.text_document and self.client_capabilities.text_document.code_action
        return bool(caps and caps.resolve_support and "edit" in caps.resolve_support.properties)

    def workspace_edit(self, linted: Linted, edits: Edits) -> types.WorkspaceEdit:
        caps = self.client_capabilities.workspace
        if not (caps and caps.workspace_edit and caps.workspace_edit.document_changes):
            return types.WorkspaceEdit(changes=edits)
        versions = linted.snapshot.versions
        return types.WorkspaceEdit(document_changes=[
            types.TextDocumentEdit(types.OptionalVersionedTextDocumentIdentifier(uri, versions.get(uri)), list(text_edits))
            for uri, text_edits in edits.items()
        ])

    async def edit_for(self, linted: Linted, entry: Optional[int]) -> Optional[types.WorkspaceEdit]:
        """The fix of ``linted.entries[entry]``, or all safe fixes when ``entry`` is None."""
        snap = linted.snapshot
        try:
            if entry is None:
                edits = await self.in_worker(worker.fix_all_edits, snap.uri, snap.version)
            else:
                edits = await self.in_worker(worker.fix_edits, snap.uri, snap.version, entry)
        except worker.FixAllError as e:
            self.log_error(f"fix all in {snap.path}: {e}")
            return None
        return self.workspace_edit(linted, edits) if edits else None

    def noqa_action(self, linted: Linted, entry: Entry) -> Optional[types.CodeAction]:
        f = entry.finding
        if f.code in (PARSE_ERROR, INTERNAL_ERROR):
            return None  # the engine never suppresses these
        edit = convert.noqa_edit(linted.indexes[entry.uri], f.line, f.code)
        if edit is None:
            return None
        return types.CodeAction(title=f"Ignore {f.code} on this line", kind=types.CodeActionKind.QuickFix,
                                diagnostics=[entry.diagnostic], edit=self.workspace_edit(linted, {entry.uri: [edit]}))

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        target = self.target_of(uri)
        linted = await self.fresh_result(target)
        if linted is None:
            return []
        only = params.context.only
        lazy = self.lazy_edits()
        actions: list[types.CodeAction] = []

        async def add(action: types.CodeAction, entry: Optional[int]) -> None:
            # the edit now, or a note of what to compute when the client resolves it
            if lazy:
                action.data = {"target": target, "version": linted.snapshot.version, "entry": entry}
            else:
                action.edit = await self.edit_for(linted, entry)
                if action.edit is None:
                    return
            actions.append(action)

        if _kind_wanted(only, types.CodeActionKind.QuickFix):
            for i, entry in enumerate(linted.entries):
                if entry.uri != uri or not convert.overlaps(entry.range, params.range):
                    continue
                fix = entry.finding.fix
                if fix is not None:
                    unsafe = fix.applicability != SAFE
                    await add(types.CodeAction(
                        title=f"{entry.finding.code}: {fix.description}" + (" (unsafe fix)" if unsafe else ""),
                        kind=types.CodeActionKind.QuickFix, diagnostics=[entry.diagnostic], is_preferred=not unsafe,
                    ), i)
                noqa = self.noqa_action(linted, entry)
                if noqa is not None:
                    actions.append(noqa)
        has_safe_fix = any(e.finding.fix is not None and e.finding.fix.applicability == SAFE for e in linted.entries)
        # without resolve, the fixer would run at every cursor move: only when asked for by kind
        if has_safe_fix and _kind_wanted(only, FIX_ALL_KIND) and (lazy or only):
            await add(types.CodeAction(title="kmlint: fix all safe fixes in file", kind=FIX_ALL_KIND), None)
        return actions

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        linted = self._results.get(data.get("target", ""))
        entry = data.get("entry")
        if linted is None or linted.snapshot.version != data.get("version") or \
                linted.snapshot.version != self.current_version(linted.snapshot.uri):
            self.log_error("code action not applied: the document changed since it was offered")
        elif entry is None or (isinstance(entry, int) and 0 <= entry < len(linted.entries)):
            action.edit = await self.edit_for(linted, entry)
        return action


def _describe(args) -> str:
    snap = next((a for a in args if isinstance(a, Snapshot)), None)
    return f" of {snap.path}" if snap is not None else ""


def _kind_wanted(only: Optional[list[str]], kind: str) -> bool:
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


server = KmlintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: KmlintServer, params: types.InitializeParams) -> None:
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    debounce_ms = options.get("debounceMs")
    if isinstance(debounce_ms, (int, float)) and not isinstance(debounce_ms, bool) and debounce_ms >= 0:
        ls.debounce = debounce_ms / 1000
    run = options.get("run")
    if run in ("onType", "onSave"):
        ls.lint_on_type = run == "onType"
    elif run is not None:
        ls.log_error(f"unknown initialization option run={run!r} (expected 'onType' or 'onSave'); linting on type")


@server.feature(types.INITIALIZED)
async def initialized(ls: KmlintServer, params: types.InitializedParams) -> None:
    asyncio.ensure_future(ls.in_worker(worker.ready))  # start the worker while the editor opens files
    watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
    if not (watched and watched.dynamic_registration):
        return  # config changes are still seen: every lint compares the config files' mtimes
    registration = types.Registration(
        id="kmlint-config-watcher", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in CONFIG_GLOBS]),
    )
    try:
        await ls.client_register_capability_async(types.RegistrationParams([registration]))
    except Exception as e:
        ls.log_error(f"could not register the config file watcher: {e}")


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: KmlintServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(unquote(c.uri).rsplit("/", 1)[-1] in CONFIG_FILES for c in params.changes):
        ls.config_changed()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: KmlintServer, params: types.DidOpenTextDocumentParams) -> None:
    if ls.is_linted_document(params.text_document):
        ls._text_documents.add(params.text_document.uri)
        ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: KmlintServer, params: types.DidChangeTextDocumentParams) -> None:
    if params.text_document.uri in ls._text_documents and ls.lint_on_type:
        ls.schedule(params.text_document.uri, ls.debounce, again=False)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: KmlintServer, params: types.DidSaveTextDocumentParams) -> None:
    if params.text_document.uri in ls._text_documents:
        ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: KmlintServer, params: types.DidCloseTextDocumentParams) -> None:
    if params.text_document.uri in ls._text_documents:
        ls._text_documents.discard(params.text_document.uri)
        ls.forget(params.text_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_did_open(ls: KmlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri, 0)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_did_change(ls: KmlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
    if ls.lint_on_type:
        ls.schedule(params.notebook_document.uri, ls.debounce, again=False)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_did_save(ls: KmlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri, 0)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_did_close(ls: KmlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
    ls.forget(params.notebook_document.uri)
    for cell in params.cell_text_documents:
        ls.clear(cell.uri)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=True))
async def code_action(ls: KmlintServer, params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
    return await ls.code_actions(params) or None


@server.feature(types.CODE_ACTION_RESOLVE)
async def code_action_resolve(ls: KmlintServer, action: types.CodeAction) -> types.CodeAction:
    return await ls.resolve(action)


@server.feature(types.SHUTDOWN)
def shutdown(ls: KmlintServer, params: None) -> None:
    ls.stop_worker()


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: KmlintServer, params: types.HoverParams) -> Optional[types.Hover]:
    linted = ls._results.get(ls.target_of(params.text_document.uri))
    if linted is None:
        return None
    hits = [e for e in linted.entries if e.uri == params.text_document.uri and convert.contains(e.range, params.position)]
    if not hits:
        return None
    text = "\n\n---\n\n".join(convert.hover_markdown(e.finding) for e in hits)
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text), hits[0].range)


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="kmlint server %(levelname)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    try:
        server.start_io()
    finally:
        server.stop_worker()
