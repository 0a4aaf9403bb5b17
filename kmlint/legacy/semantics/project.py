"""Project scope: resolve imports of a file to other files of the same project
and analyse them (parsed once per process, re-parsed when they change).

The project root of a file is the nearest directory above it holding
``pyproject.toml``, ``setup.py``, ``setup.cfg`` or ``.git``; without one, the
file's own directory.  ``import utils.gpu`` / ``from utils.gpu import f`` /
``from .gpu import f`` are looked up next to the file and at the root.  Every
project file consulted is recorded in ``model.dependencies`` so cached results
can be invalidated when one of them changes.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Optional

import libcst as cst

from kmlint.engine.parsing import parse_module
from kmlint.engine.paths import resolved
from kmlint.legacy.semantics.model import SemanticModel, build_model
from kmlint.legacy.semantics.names import dotted_name

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
MAX_BYTES = 1_000_000  # larger "helper modules" are generated code: not analysed

# Most recently used first out; each entry holds a whole libcst tree, so a
# worker going through a big project keeps only the helpers it needs lately.
MAX_CACHED_MODELS = 64
_models: "OrderedDict[str, tuple[tuple[int, int], Optional[SemanticModel]]]" = OrderedDict()


# directory -> (when looked up, its project root): a linted file follows
# thousands of calls and imports, each asking for the root of the same few
# directories (a dozen stat calls each).  Entries expire so a long-running
# language server notices a new pyproject.toml.
ROOT_CACHE_SECONDS = 5.0
_roots: dict[Path, tuple[float, Path]] = {}


def project_root(file: Path) -> Path:
    start = file.parent
    now = time.monotonic()
    cached = _roots.get(start)
    if cached is not None and now - cached[0] < ROOT_CACHE_SECONDS:
        return cached[1]
    root = start
    for d in [start, *start.parents]:
        if any((d / m).exists() for m in ROOT_MARKERS):
            root = d
            break
    if len(_roots) > 4096:
        _roots.clear()
    _roots[start] = (now, root)
    return root


# (base, parts) -> (when looked up, the module file and its resolved path):
# every file of a directory resolves the same imports (stat calls each)
_module_files: dict[tuple[Path, tuple[str, ...]], tuple[float, Optional[Path], Optional[Path]]] = {}


def _cached_module_file(base: Path, parts: list[str]) -> tuple[Optional[Path], Optional[Path]]:
    key = (base, tuple(parts))
    now = time.monotonic()
    cached = _module_files.get(key)
    if cached is not None and now - cached[0] < ROOT_CACHE_SECONDS:
        return cached[1], cached[2]
    f = _module_file(base, parts)
    real = resolved(f) if f is not None else None
    if len(_module_files) > 65536:
        _module_files.clear()
    _module_files[key] = (now, f, real)
    return f, real


def _module_file(base: Path, parts: list[str]) -> Optional[Path]:
    if not parts:
        init = base / "__init__.py"
        return init if init.is_file() else None
    p = base.joinpath(*parts)
    if p.with_suffix(".py").is_file():
        return p.with_suffix(".py")
    if (p / "__init__.py").is_file():
        return p / "__init__.py"
    return None


def resolve(importer: Path, dotted: str) -> Optional[tuple[Path, list[str]]]:
    """The project file a dotted name lives in, and the attribute path left
    inside it: ``utils.gpu.setup_gpu`` -> (``<root>/utils/gpu.py``, ["setup_gpu"])."""
    level = len(dotted) - len(dotted.lstrip("."))
    parts = [p for p in dotted.lstrip(".").split(".") if p]
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        bases = [base]
    else:
        root = project_root(importer)
        bases = [importer.parent] if importer.parent == root else [importer.parent, root]
    itself: Optional[Path] = None
    for base in bases:
        for k in range(len(parts), -1 if level else 0, -1):
            f, real = _cached_module_file(base, parts[:k])
            if f is None:
                continue
            if itself is None:
                itself = resolved(importer)
            if real != itself:
                return f, parts[k:]
    return None


def missing_module_paths(importer: Path, dotted: str) -> list[str]:
    """The paths whose creation would make ``resolve(importer, dotted)`` find a
    project file, for a target it does not find: per base directory, the
    ``.py`` file and the package directory of each prefix of the dotted name,
    stopping at the first directory that does not exist (creating anything
    below it creates it, and the cache sees a directory appear)."""
    level = len(dotted) - len(dotted.lstrip("."))
    parts = [p for p in dotted.lstrip(".").split(".") if p]
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        bases = [base]
    else:
        root = project_root(importer)
        bases = [importer.parent] if importer.parent == root else [importer.parent, root]
    out: list[str] = []
    for base in bases:
        try:
            d = resolved(base)
        except OSError:
            continue
        if not parts:
            out.append(str(d / "__init__.py"))
        for part in parts:
            out.append(str(d / (part + ".py")))
            d = d / part
            if not d.is_dir():
                out.append(str(d))  # absent: appears as a package or a directory
                break
            out.append(str(d / "__init__.py"))
    return out


def load(file: Path) -> Optional[SemanticModel]:
    """The semantic model of a project file; None when unreadable or unparsable."""
    key = str(file.resolve())
    try:
        st = os.stat(key)
    except OSError:
        return None
    sig = (st.st_mtime_ns, st.st_size)
    cached = _models.get(key)
    if cached is not None and cached[0] == sig:
        _models.move_to_end(key)
        return cached[1]
    model = None
    if st.st_size <= MAX_BYTES:
        try:
            text = Path(key).read_text(encoding="utf-8")
            model = build_model(parse_module(text), text)
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError, RecursionError, ValueError):
            model = None
    _models[key] = (sig, model)
    _models.move_to_end(key)
    while len(_models) > MAX_CACHED_MODELS:
        _models.popitem(last=False)
    return model


def imported_project_modules(model: SemanticModel, importer: Path) -> dict[str, tuple[Path, list[str]]]:
    """Import targets of a file (as the model spells them) that are project files."""
    memo = model._memo.get("project_imports")
    if memo is not None:
        return memo
    out: dict[str, tuple[Path, list[str]]] = {}
    targets: list[str] = []
    for scope in model.scopes:
        for bindings in scope.bindings.values():
            for b in bindings:
                if b.kind != "import":
                    continue
                if isinstance(b.node, cst.Import):  # import utils.gpu binds `utils`; calls read utils.gpu.f
                    targets.extend(dotted_name(a.name) or "" for a in b.node.names)
                elif b.imported:
                    targets.append(b.imported)
    for target in targets:
        if target and target not in out:
            found = resolve(importer, target)
            if found is not None:
                out[target] = found
                model.dependencies.add(str(found[0].resolve()))
            else:
                # creating the module later must invalidate a cached result
                model.dependencies.update(missing_module_paths(importer, target))
    model._memo["project_imports"] = out
    return out


def called_function(model: SemanticModel, importer: Path, call, deps: set[str], screen=None):
    """The function of another project file that a call site calls
    (``setup_gpu()`` after ``from utils.gpu import setup_gpu``), as
    (that file's model, its FunctionInfo, its path); None otherwise.  The file
    is added to ``deps`` whenever it was consulted.  ``screen(path)``, when
    given, can rule a file out before it is parsed (None is returned)."""
    q = model.qualname(call.node.func)
    if not q:
        return None
    modules = imported_project_modules(model, importer)
    if not any(q == t or q.startswith(t + ".") for t in modules):
        return None
    found = resolve(importer, q)
    if found is None:
        return None
    helper_file, rest = found
    deps.add(str(helper_file.resolve()))
    if screen is not None and not screen(helper_file):
        return None
    helper = load(helper_file)
    if helper is None or len(rest) != 1:
        return None
    for b in helper.module_scope.bindings.get(rest[0], ()):
        if b.kind == "def" and b.function is not None:
            return helper, b.function, helper_file
    return None
