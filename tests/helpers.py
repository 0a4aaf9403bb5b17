"""Shared test helpers: lint text in-process, read expectation comments."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional, Union

from kmlint.config import Settings
from kmlint.engine.linter import lint_text

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "rules"
FIXTURES = ROOT / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*((?:KM[0-9]{3}[\s,]*)+)")


def lint(source: str, path: str = "snippet.py", select: Optional[list[str]] = None, **settings) -> list:
    s = Settings(select=select, **settings)
    return lint_text(source, path, s).findings


def codes(source: str, path: str = "snippet.py", **kw) -> list[tuple[int, str]]:
    return sorted((f.line, f.code) for f in lint(source, path, **kw))


def notebook(*cells: Union[str, tuple[str, str]], language: str = "python") -> str:
    """A notebook's JSON: plain strings are code cells, ("markdown", text) others."""
    out = []
    for c in cells:
        if isinstance(c, tuple):
            out.append({"cell_type": c[0], "metadata": {}, "source": c[1]})
        else:
            out.append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c})
    return json.dumps({"cells": out, "metadata": {"kernelspec": {"language": language}}, "nbformat": 4, "nbformat_minor": 5})


def expectations(text: str) -> set[tuple[int, str]]:
    out = set()
    for i, line in enumerate(text.splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            for code in re.findall(r"KM[0-9]{3}", m.group(1)):
                out.add((i, code))
    return out


def cli_env(env: Optional[dict] = None) -> dict:
    """Environment for subprocesses that must import *this* checkout's kmlint
    (not whichever copy is pip-installed)."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_cli(*args: str, cwd: Optional[Path] = None, input: Optional[str] = None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kmlint", *args], cwd=cwd, input=input, capture_output=True,
                          text=True, env=cli_env(env), timeout=600)


def corpus_files(notebooks: bool = True) -> list[Path]:
    """Every dossier example and fixture file, found at call time so files
    added later are covered: the corpus of the engine-wide equivalence tests."""
    files = sorted(RULES_DIR.glob("*/*.py"))
    suffixes = (".py", ".pyi", ".ipynb") if notebooks else (".py", ".pyi")
    for extra in (FIXTURES, ROOT / "tests" / "prefilter_traps"):
        if extra.is_dir():
            files += sorted(p for p in extra.rglob("*") if p.suffix in suffixes and p.is_file())
    return files
