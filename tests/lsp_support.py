"""Driving ``kmlint server`` from tests (and the latency benchmark): a
pytest-lsp client that records what the server publishes, and helpers to wait
for it and to apply the edits it proposes."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Optional, Sequence

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from tests.helpers import ROOT, cli_env

TIMEOUT = 30  # seconds; generous for a loaded CI machine, never reached when things work


def record_registration(client: LanguageClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)


def record_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)
    client.publish_event.set()


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.registrations = []
    client.published = []  # every publishDiagnostics, in order (with versions)
    client.publish_event = asyncio.Event()
    register_lsp_features(client, {
        **DEFAULT_CLIENT_FEATURES,
        types.CLIENT_REGISTER_CAPABILITY: record_registration,
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: record_diagnostics,
    })
    return client


def server_config(*command: str) -> ClientServerConfig:
    return ClientServerConfig(server_command=list(command) or [sys.executable, "-m", "kmlint", "server"],
                              client_factory=make_client, server_env=cli_env())


def capabilities() -> types.ClientCapabilities:
    """VS Code's capabilities, with notebook sync (3.17) switched on."""
    caps = client_capabilities("visual-studio-code")
    caps.notebook_document = types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities(dynamic_registration=False))
    return caps


def plain_capabilities() -> types.ClientCapabilities:
    """A client without codeAction/resolve and versioned workspace edits."""
    caps = capabilities()
    caps.text_document.code_action.resolve_support = None
    caps.workspace.workspace_edit.document_changes = False
    return caps


async def initialize(client: LanguageClient, root: Path = ROOT, debounce_ms: Optional[int] = None,
                     caps: Optional[types.ClientCapabilities] = None, run: Optional[str] = None) -> types.InitializeResult:
    options = {"debounceMs": debounce_ms} if debounce_ms is not None else {}
    if run is not None:
        options["run"] = run  # "onType" or "onSave" (the VS Code extension's kmlint.run)
    options = options or None
    return await client.initialize_session(types.InitializeParams(
        capabilities=caps or capabilities(), root_uri=root.as_uri(), initialization_options=options))


async def next_publish(client: LanguageClient, uri: str, version: Optional[int] = None,
                       since: Optional[int] = None) -> list[types.Diagnostic]:
    """Diagnostics the server publishes for ``uri`` (and ``version``) after
    ``since`` (an index into ``client.published``), by default after now: then
    call it right after sending what triggers them, before any other await."""
    seen = len(client.published) if since is None else since
    while True:
        for params in client.published[seen:]:
            if params.uri == uri and (version is None or params.version == version):
                return list(params.diagnostics)
        seen = len(client.published)
        client.publish_event.clear()
        await asyncio.wait_for(client.publish_event.wait(), TIMEOUT)


def open_python(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", version, text)))
    return uri


def replace_all(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


def offset(text: str, pos: types.Position) -> int:
    """Offset of an LSP (UTF-16) position in ``text``."""
    lines = re.split(r"(?<=\n)|(?<=\r)(?!\n)", text)  # LSP's line breaks only (not form feeds)
    if pos.line >= len(lines):
        return len(text)
    line = lines[pos.line]
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return sum(len(x) for x in lines[:pos.line]) + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return sum(len(x) for x in lines[:pos.line]) + len(line)


def apply_edits(text: str, edits: Sequence[types.TextEdit]) -> str:
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(text, e.range.start)] + e.new_text + text[offset(text, e.range.end):]
    return text


def edits_by_uri(edit: types.WorkspaceEdit) -> dict[str, list[types.TextEdit]]:
    if edit.document_changes:
        return {c.text_document.uri: list(c.edits) for c in edit.document_changes}
    return {uri: list(edits) for uri, edits in (edit.changes or {}).items()}


async def offered_actions(client: LanguageClient, uri: str, rng: types.Range, only=None) -> list[types.CodeAction]:
    result = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), rng, types.CodeActionContext(diagnostics=[], only=only))), TIMEOUT)
    return list(result or [])


async def code_actions(client: LanguageClient, uri: str, rng: types.Range, only=None) -> list[types.CodeAction]:
    """The actions offered for ``rng``, with their edits (resolved where the
    server left them to codeAction/resolve, as an editor does when one is picked)."""
    actions = []
    for action in await offered_actions(client, uri, rng, only):
        if action.edit is None:
            action = await asyncio.wait_for(client.code_action_resolve_async(action), TIMEOUT)
        actions.append(action)
    return actions
