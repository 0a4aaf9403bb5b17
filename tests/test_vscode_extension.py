"""The VS Code extension builds and packages into a .vsix (npm ci, tsc, vsce)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import ROOT

EXTENSION = ROOT / "editors" / "vscode"


@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="needs Node.js and npm")
def test_extension_packages_into_a_vsix(tmp_path):
    vsix = tmp_path / "kmlint.vsix"
    build = subprocess.run([sys.executable, str(EXTENSION / "build.py"), "--out", str(vsix)],
                           capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]

    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
        vsixmanifest = archive.read("extension.vsixmanifest").decode()
        main = archive.read("extension/" + manifest["main"].removeprefix("./")).decode()
    source = json.loads((EXTENSION / "package.json").read_text())
    assert manifest["name"] == "kmlint" and manifest["version"] == source["version"]
    assert f'Version="{source["version"]}"' in vsixmanifest
    # the compiled extension, with the server command, and its runtime dependency
    assert manifest["main"] == "./out/extension.js"
    assert '"server"' in main and '"-m", "kmlint"' in main and "LanguageClient" in main
    assert "extension/node_modules/vscode-languageclient/package.json" in names
    assert {"onLanguage:python", "onNotebook:jupyter-notebook"} <= set(manifest["activationEvents"])
    assert {"kmlint.path", "kmlint.interpreter"} <= set(manifest["contributes"]["configuration"]["properties"])
    # sources and build tools stay out
    assert not any(n.startswith(("extension/src/", "extension/node_modules/typescript/")) for n in names)
