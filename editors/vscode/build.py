"""Build the VS Code extension into a .vsix: ``npm ci``, then ``vsce package``,
whose ``vscode:prepublish`` step type-checks the sources (``tsc --noEmit``) and
bundles the client code with esbuild into ``out/extension.js`` (the language
client included; ``vscode`` stays external), so the .vsix carries one
JavaScript file and no node_modules.

    python editors/vscode/build.py [--out kmlint.vsix]

Needs Node.js 20+ and npm (the npm registry, or a warm npm cache); esbuild's
platform binary comes from the registry as its optional dependency.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(out: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("build.py: npm not found; install Node.js 20 or later")
    for args in (["ci", "--no-audit", "--no-fund"],
                 ["exec", "--", "vsce", "package", "--no-dependencies", "--out", str(out)]):
        subprocess.run([npm, *args], cwd=HERE, check=True)
    return out


def main() -> None:
    version = json.loads((HERE / "package.json").read_text(encoding="utf-8"))["version"]
    parser = argparse.ArgumentParser(description="Build the kmlint VS Code extension (.vsix).")
    parser.add_argument("--out", type=Path, default=HERE / f"kmlint-{version}.vsix")
    args = parser.parse_args()
    try:
        print(build(args.out.resolve()))
    except subprocess.CalledProcessError as e:
        sys.exit(f"build.py: {' '.join(e.cmd[1:])} failed (exit {e.returncode})")


if __name__ == "__main__":
    main()
