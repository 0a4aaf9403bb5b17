"""Build and check a corpus of real Jupyter notebooks (issue 13, part 1).

The corpus is kept OUTSIDE the repository (default /work/nbcorpus).  It is made
of every ``.ipynb`` file of the public GitHub repositories listed in SOURCES, at
the commit of the local copy used:

    python scripts/notebook_corpus.py build [--mirrors /work/.mirror] [--out /work/nbcorpus]

For each ``owner/name`` in SOURCES, ``build`` reads the bare git directory
``MIRRORS/owner+name/repo`` when it exists, otherwise it clones
``https://github.com/owner/name`` (``--depth 1``) into ``OUT/_clones``.  The
notebooks are written as ``OUT/owner+name/<path with / as __>`` and listed in
``OUT/manifest.tsv`` (repository, commit, path in repository, local file,
git blob id), so every file says where it came from.

    python scripts/notebook_corpus.py check [--out /work/nbcorpus] [--kmlint-root .] [--json report.json]

``check`` measures, for every notebook of the manifest:

* IPython's verdict (the oracle; IPython is needed by this script only): each
  Python code cell is transformed with ``IPython.core.inputtransformer2.
  TransformerManager().transform_cell`` and compiled (for a cell magic that
  runs its body in the kernel, ``%%time`` and the like, the body is transformed
  and compiled too, as the magic does at run time).  A notebook is
  "IPython-clean" when every code cell compiles.
* kmlint's verdict: the notebook is linted in-process (``lint_text``, all rules,
  preview on) from the checkout given by ``--kmlint-root`` and its KM901
  (parse-error) findings are counted.
* the cell-level agreement of kmlint's own transformation
  (``kmlint.engine.notebooks.transform_cell``, when that checkout has it) with
  what the kernel runs (``InteractiveShell.transform_cell``: the transformers,
  then automagic on a one-line cell such as ``pip install x``): our transformed
  cell compiles iff the kernel's does, and it has as many lines as the cell.
  ``automagic_cells`` counts the cells only the kernel's automagic accepts.

It prints the counts and lists the IPython-clean notebooks that got KM901
(the target is none).  Exit status 1 when there are such notebooks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

# Public repositories of tutorials, books and packages that ship notebooks.
SOURCES = [
    "tensorflow/docs",
    "tensorflow/examples",
    "ageron/handson-ml2",
    "ageron/handson-ml3",
    "jakevdp/PythonDataScienceHandbook",
    "fchollet/deep-learning-with-python-notebooks",
    "aymericdamien/TensorFlow-Examples",
    "rasbt/python-machine-learning-book-3rd-edition",
    "PacktPublishing/Deep-Learning-with-Keras",
    "yu4u/age-gender-estimation",
    "zhixuhao/unet",
]


def _git(git_dir: Path, *args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], input=input, check=True,
                          capture_output=True).stdout


def _source_dir(repo: str, mirrors: Path, out: Path) -> Path | None:
    mirror = mirrors / repo.replace("/", "+") / "repo"
    if mirror.is_dir():
        return mirror
    clone = out / "_clones" / repo.replace("/", "+")
    if not clone.exists():
        try:
            subprocess.run(["git", "clone", "--bare", "--depth", "1", f"https://github.com/{repo}", str(clone)],
                           check=True, capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as e:
            print(f"skip {repo}: cannot clone ({e})", file=sys.stderr)
            return None
    return clone


def build(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for repo in SOURCES:
        git_dir = _source_dir(repo, Path(args.mirrors), out)
        if git_dir is None:
            continue
        commit = _git(git_dir, "rev-parse", "HEAD").decode().strip()
        listing = _git(git_dir, "ls-tree", "-r", "-z", "HEAD").split(b"\0")
        entries = []
        for entry in listing:
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            path_s = path.decode("utf-8", "replace")
            if meta.split()[1] == b"blob" and path_s.endswith(".ipynb") and ".ipynb_checkpoints" not in path_s:
                entries.append((meta.split()[2].decode(), path_s))
        target = out / repo.replace("/", "+")
        target.mkdir(exist_ok=True)
        kept = 0
        for blob, path in entries:
            try:
                data = _git(git_dir, "cat-file", "blob", blob)
            except subprocess.CalledProcessError:
                continue  # a large blob the snapshot does not hold
            if not data.lstrip().startswith(b"{"):
                continue  # a Git LFS pointer or not a notebook
            local = target / path.replace("/", "__")
            local.write_bytes(data)
            rows.append((repo, commit, path, str(local.relative_to(out)), blob))
            kept += 1
        print(f"{repo}@{commit[:12]}: {kept} notebooks")
    with open(out / "manifest.tsv", "w", encoding="utf-8") as fh:
        fh.write("repository\tcommit\tpath\tlocal\tblob\n")
        for row in rows:
            fh.write("\t".join(row) + "\n")
    print(f"{len(rows)} notebooks in {out} (manifest.tsv)")
    return 0


def _python_cells(data: dict) -> list[tuple[int, str]]:
    spec = (data.get("metadata") or {}).get("kernelspec") or {}
    if isinstance(spec, dict) and spec.get("language") not in (None, "python", "Python"):
        return []
    cells = []
    for i, cell in enumerate(data.get("cells") or []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            cells.append((i, "".join(src) if isinstance(src, list) else src))
    return cells


def _compiles(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<cell>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, OverflowError):
        return False


def kernel_transformer():
    """The transformation the kernel applies: InteractiveShell.transform_cell
    (TransformerManager, then automagic on a one-line cell), no names bound."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell(config=config)


def ipython_compiles(tm, cell: str, python_cell_magics) -> bool:
    """IPython's verdict on a cell: its transformation (``tm.transform_cell``)
    compiles.  A cell magic that runs its body in the kernel (``%%time``...)
    compiles the body at run time, transformed by IPython again; that is part
    of the verdict."""
    import ast

    try:
        out = tm.transform_cell(cell)
    except Exception:  # IPython's transformer itself gives up (a tokenize error)
        return False
    if not _compiles(out):
        return False
    try:
        tree = ast.parse(out)
    except SyntaxError:
        return False
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Call):
        call = tree.body[0].value
        if isinstance(call.func, ast.Attribute) and call.func.attr == "run_cell_magic" and len(call.args) == 3 \
                and all(isinstance(a, ast.Constant) for a in call.args) and call.args[0].value in python_cell_magics:
            return ipython_compiles(tm, call.args[2].value, python_cell_magics)
    return True


def check(args) -> int:
    sys.path.insert(0, str(Path(args.kmlint_root).resolve()))
    from IPython.core.inputtransformer2 import TransformerManager

    from kmlint.config import Settings
    from kmlint.engine import notebooks as nbmod
    from kmlint.engine.linter import lint_text

    ours = getattr(nbmod, "transform_cell", None)
    out = Path(args.out)
    rows = [line.rstrip("\n").split("\t") for line in open(out / "manifest.tsv", encoding="utf-8")][1:]
    tm = TransformerManager()
    shell = kernel_transformer()
    settings = Settings(preview=True)
    report = {"notebooks": 0, "code_cells": 0, "ipython_rejected_cells": 0, "ipython_clean_notebooks": 0,
              "ipython_rejected_notebooks": 0, "km901_notebooks": 0, "km901_findings": 0,
              "km901_on_ipython_clean": [], "automagic_cells": 0, "cell_disagreements": [], "line_count_changes": [],
              "sources": sorted({r[0] for r in rows})}
    start = time.time()
    for repo, commit, path, local, _ in rows:
        text = (out / local).read_text(encoding="utf-8", errors="replace")
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            continue
        report["notebooks"] += 1
        clean = True
        for index, src in _python_cells(data):
            report["code_cells"] += 1
            theirs = ipython_compiles(tm, src, getattr(nbmod, "PYTHON_CELL_MAGICS", ()))
            if not theirs:
                report["ipython_rejected_cells"] += 1
                clean = False
            if ours is not None:
                mine = ours(src)
                kernel = ipython_compiles(shell, src, getattr(nbmod, "PYTHON_CELL_MAGICS", ()))
                if kernel != theirs:
                    report["automagic_cells"] += 1
                if _compiles(mine) != kernel:
                    report["cell_disagreements"].append({"file": local, "cell": index, "kernel": kernel})
                if mine.count("\n") != src.rstrip("\n").count("\n") + 1 and src.strip():
                    report["line_count_changes"].append({"file": local, "cell": index})
        report["ipython_clean_notebooks" if clean else "ipython_rejected_notebooks"] += 1
        km901 = [f for f in lint_text(text, local, settings).findings if f.code == "KM901"]
        if km901:
            report["km901_notebooks"] += 1
            report["km901_findings"] += len(km901)
            if clean:
                report["km901_on_ipython_clean"].append(
                    {"file": local, "source": f"{repo}@{commit[:12]}:{path}",
                     "findings": [f"cell {f.cell}, line {f.line}: {f.message}" for f in km901]})
    report["seconds"] = round(time.time() - start, 1)
    summary = {k: (len(v) if isinstance(v, list) and k != "sources" else v) for k, v in report.items()}
    print(json.dumps(summary, indent=2))
    for item in report["km901_on_ipython_clean"][:50]:
        print(f"KM901 on an IPython-clean notebook: {item['source']}: {item['findings'][:3]}")
    for item in report["cell_disagreements"][:20]:
        print(f"disagreement: {item}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 1 if report["km901_on_ipython_clean"] else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="extract the notebooks of SOURCES into OUT")
    b.add_argument("--mirrors", default="/work/.mirror")
    b.add_argument("--out", default="/work/nbcorpus")
    c = sub.add_parser("check", help="IPython vs kmlint on the corpus")
    c.add_argument("--out", default="/work/nbcorpus")
    c.add_argument("--kmlint-root", default=str(Path(__file__).resolve().parents[1]))
    c.add_argument("--json", default=None, help="write the full report here")
    args = ap.parse_args()
    return build(args) if args.command == "build" else check(args)


if __name__ == "__main__":
    sys.exit(main())
