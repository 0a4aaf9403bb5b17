"""The VS Code extension: built with the real npm, esbuild and vsce into a
.vsix whose client code is one bundle (no "you should bundle your extension"
warning, no node_modules inside), with its settings; and its way of finding
``kmlint server`` (the Python extension's interpreter when kmlint is installed
there, else ``kmlint`` on the PATH), run in Node.js on the compiled module and
checked by starting the server it finds.

Skipped when Node.js or npm is missing (the CI image has Node.js 20 and npm)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import ROOT

EXTENSION = ROOT / "editors" / "vscode"
pytestmark = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None,
                                reason="needs Node.js and npm")


@pytest.fixture(scope="module")
def vsix(tmp_path_factory):
    out = tmp_path_factory.mktemp("vsix") / "kmlint.vsix"
    build = subprocess.run([sys.executable, str(EXTENSION / "build.py"), "--out", str(out)],
                           capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return out, build.stdout + build.stderr


def test_extension_packages_into_a_bundled_vsix(vsix):
    path, log = vsix
    assert "bundle your extension" not in log and "vscode-bundle-extension" not in log, log[-3000:]
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
        vsixmanifest = archive.read("extension.vsixmanifest").decode()
        main = archive.read("extension/" + manifest["main"].removeprefix("./")).decode()
    source = json.loads((EXTENSION / "package.json").read_text())
    assert manifest["name"] == "kmlint" and manifest["version"] == source["version"]
    assert f'Version="{source["version"]}"' in vsixmanifest
    # one bundled file: the extension, the resolution logic and the language client
    assert manifest["main"] == "./out/extension.js"
    assert [n for n in names if n.endswith(".js")] == ["extension/out/extension.js"]
    assert not any("node_modules" in n or n.startswith("extension/src/") for n in names), sorted(names)
    assert '"-m","kmlint","server"' in main.replace(" ", "") and "LanguageClient" in main
    assert 'require("vscode")' in main and 'require("vscode-languageclient' not in main
    assert {"onLanguage:python", "onNotebook:jupyter-notebook"} <= set(manifest["activationEvents"])
    props = manifest["contributes"]["configuration"]["properties"]
    assert {"kmlint.enable", "kmlint.run", "kmlint.path", "kmlint.interpreter", "kmlint.debounceMs"} <= set(props)
    assert props["kmlint.enable"]["default"] is True
    assert props["kmlint.run"]["enum"] == ["onType", "onSave"] and props["kmlint.run"]["default"] == "onType"
    # the settings the server reads at initialization
    assert re.search(r'debounceMs:\w+\.get\("debounceMs",150\),run:\w+\.get\("run","onType"\)', main)


def _executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture(scope="module")
def resolver(vsix, tmp_path_factory):
    """src/command.ts compiled by the extension's esbuild for Node.js."""
    out = tmp_path_factory.mktemp("command") / "command.js"
    r = subprocess.run(["npm", "exec", "--", "esbuild", "src/command.ts", "--bundle", "--platform=node",
                        "--format=cjs", f"--outfile={out}"], cwd=EXTENSION, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr

    def resolve(settings: dict):
        script = (f"const m = require({json.dumps(str(out))});"
                  f"m.resolveServerCommand({json.dumps(settings)}).then(r => console.log(JSON.stringify(r ?? null)));")
        r = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    return resolve


def _speaks_lsp(command: list[str]) -> dict:
    """Start the found server, send `initialize`, return its answer."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()
        length = None
        while True:
            line = proc.stdout.readline()
            assert line, "the server closed its output"
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line in (b"\r\n", b"\n") and length is not None:
                return json.loads(proc.stdout.read(length))
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_finds_kmlint_in_the_selected_interpreter_else_on_path(resolver, tmp_path):
    pytest.importorskip("pygls")
    bare = _executable(tmp_path / "python-without-kmlint", "#!/bin/sh\nexit 1\n")  # every import fails
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    on_path = _executable(bin_dir / "kmlint", "#!/bin/sh\nexit 0\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    base = {"path": [], "interpreter": [], "args": []}

    # the selected interpreter has kmlint (and pygls): python -m kmlint server
    found = resolver({**base, "selected": [sys.executable], "env": {"PATH": str(bin_dir)}})
    assert found == {"command": sys.executable, "args": ["-m", "kmlint", "server"], "source": "selected interpreter"}
    answer = _speaks_lsp([found["command"], *found["args"]])
    assert answer["result"]["serverInfo"]["name"] == "kmlint"

    # it has not: kmlint on the PATH
    found = resolver({**base, "selected": [str(bare)], "env": {"PATH": f"{empty}{os.pathsep}{bin_dir}"}})
    assert found == {"command": str(on_path), "args": ["server"], "source": "PATH"}
    # no Python extension: the PATH too
    assert resolver({**base, "env": {"PATH": str(bin_dir)}})["source"] == "PATH"
    # neither: nothing (the extension says how to install it)
    assert resolver({**base, "selected": [str(bare)], "env": {"PATH": str(empty)}}) is None

    # settings first: kmlint.path (the first that exists), then kmlint.interpreter, as given
    found = resolver({**base, "path": [str(tmp_path / "missing"), str(on_path)], "args": ["--x"],
                      "selected": [sys.executable]})
    assert found == {"command": str(on_path), "args": ["server", "--x"], "source": "kmlint.path"}
    found = resolver({**base, "interpreter": [str(bare), "-X", "utf8"], "selected": [sys.executable]})
    assert found == {"command": str(bare), "args": ["-X", "utf8", "-m", "kmlint", "server"],
                     "source": "kmlint.interpreter"}
