"""Project scope: resolve imports of a file to other files of the same project
and analyse them (engine v2: CPython ``ast`` models).

The project root of a file is the nearest directory above it holding
``pyproject.toml``, ``setup.py``, ``setup.cfg`` or ``.git``; without one, the
file's own directory.  ``import utils.gpu`` / ``from utils.gpu import f`` /
``from .gpu import f`` are looked up next to the file and at the root.  Every
project file consulted is recorded in ``model.dependencies`` so cached results
can be invalidated when one of them changes.

Layering (issue 15): this module sits below the engine and imports nothing
from it.  What it remembers between files of a run (project roots, module
files, resolved directories, the models of helper files) lives in one
:class:`ProjectIndex`; a caller that owns a run (the engine's session) makes
one and passes it as ``index=``.  Without one, the functions use the process'
default index (:func:`default_index`), the only module-level state here.
"""

from __future__ import annotations

import ast
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Optional

from kmlint.semantics.evidence import has_evidence
from kmlint.semantics.model import SemanticModel, build_model
from kmlint.syntax import parse

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
MAX_BYTES = 1_000_000  # larger "helper modules" are generated code: not analysed

# Most recently used first out: a worker going through a big project keeps
# only the helper models it needed lately.
MAX_CACHED_MODELS = 64
# Looked-up roots, module files and resolved directories expire after this
# long, so a long-running language server notices a new pyproject.toml or a
# renamed directory even when nobody calls ``forget``.
REMEMBER_SECONDS = 5.0


class ProjectIndex:
    """Per-run memory of project scope: directory -> project root, (base,
    dotted parts) -> module file, directory -> resolved directory, and file ->
    (stat signature, model).  One invalidation rule: entries found by looking
    at the file system expire after ``remember`` seconds or on ``forget()``;
    helper models are re-built when their file's mtime or size changes."""

    def __init__(self, remember: float = REMEMBER_SECONDS, max_models: int = MAX_CACHED_MODELS,
                 clock: Callable[[], float] = time.monotonic):
        self.remember = remember
        self.max_models = max_models
        self.clock = clock
        self._roots: dict[Path, tuple[float, Path]] = {}
        self._module_files: dict[tuple[Path, tuple[str, ...]], tuple[float, Optional[Path], Optional[Path]]] = {}
        self._dirs: dict[str, tuple[float, Path]] = {}
        self._files: dict[str, tuple[float, Path]] = {}  # a path as given -> resolved (not symlinks)
        # (importing directory, dotted name) -> candidate (file, resolved file, attribute path)s
        self._lookups: dict[tuple[str, str], tuple[float, list]] = {}
        self._listings: dict[str, tuple[float, frozenset]] = {}  # directory -> the names in it
        self._models: "OrderedDict[str, tuple[tuple[int, int], Optional[SemanticModel]]]" = OrderedDict()
        self._tensorflow_words: dict[str, tuple[tuple[int, int], bool]] = {}  # file -> (stat signature, answer)

    def forget(self) -> None:
        """Drop everything (a new run, or the file system changed)."""
        self._roots.clear()
        self._module_files.clear()
        self._dirs.clear()
        self._files.clear()
        self._lookups.clear()
        self._listings.clear()
        self._models.clear()
        self._tensorflow_words.clear()

    # ------------------------------------------------------------ paths
    def resolved(self, path: Path) -> Path:
        """``path.resolve()``, resolving each directory once (a file that is
        not itself a symlink resolves to its resolved directory plus its
        name); raises OSError as ``resolve`` does."""
        key = str(path)
        if not path.is_absolute():
            key = os.path.join(os.getcwd(), key)
        now = self.clock()
        known = self._files.get(key)
        if known is not None and now - known[0] < self.remember:
            return known[1]
        name = path.name
        if not name or name in (".", "..") or os.path.islink(path):
            return path.resolve()
        if len(self._files) > 65536:
            self._files.clear()
        self._files[key] = (now, self._resolved_in_dir(path, name, now))
        return self._files[key][1]

    def _resolved_in_dir(self, path: Path, name: str, now: float) -> Path:
        parent = str(path.parent) if path.is_absolute() else os.path.join(os.getcwd(), str(path.parent))
        cached = self._dirs.get(parent)
        if cached is not None and now - cached[0] < self.remember:
            return cached[1] / name
        if len(self._dirs) > 8192:
            self._dirs.clear()
        base = Path(parent).resolve()
        self._dirs[parent] = (now, base)
        return base / name

    def project_root(self, file: Path) -> Path:
        start = file.parent
        now = self.clock()
        cached = self._roots.get(start)
        if cached is not None and now - cached[0] < self.remember:
            return cached[1]
        root = start
        for d in [start, *start.parents]:
            if any((d / m).exists() for m in ROOT_MARKERS):
                root = d
                break
        if len(self._roots) > 4096:
            self._roots.clear()
        self._roots[start] = (now, root)
        return root

    def module_file(self, base: Path, parts: list[str]) -> tuple[Optional[Path], Optional[Path]]:
        """The file of module ``parts`` under ``base`` and its resolved path."""
        key = (base, tuple(parts))
        now = self.clock()
        cached = self._module_files.get(key)
        if cached is not None and now - cached[0] < self.remember:
            return cached[1], cached[2]
        f = _module_file(base, parts) if self._may_exist(str(base), parts, now) else None
        real = self.resolved(f) if f is not None else None
        if len(self._module_files) > 65536:
            self._module_files.clear()
        self._module_files[key] = (now, f, real)
        return f, real

    def _may_exist(self, base: str, parts: list[str], now: float) -> bool:
        """Whether the directory listings allow module ``parts`` under
        ``base``: a name that is not listed cannot exist, so most lookups
        (imports of installed packages) end without a stat.  Only a listed
        name is confirmed with ``is_file`` (it may be a directory named
        ``x.py``).  Like Python's import system, names are matched with
        their case."""
        d = base
        for part in parts[:-1]:
            if part not in self._names(d, now):
                return False
            d = os.path.join(d, part)
        names = self._names(d, now)
        if not parts:
            return "__init__.py" in names
        last = parts[-1]
        if last + ".py" in names:
            return True
        return last in names and "__init__.py" in self._names(os.path.join(d, last), now)

    def may_hold(self, base: str, name: str, now: float) -> bool:
        """Whether directory ``base`` lists ``name.py`` or ``name`` (one set
        lookup in the listing memo)."""
        names = self._names(base, now)
        return name + ".py" in names or name in names

    def _names(self, directory: str, now: float) -> frozenset:
        if not os.path.isabs(directory):
            directory = os.path.join(os.getcwd(), directory)
        cached = self._listings.get(directory)
        if cached is not None and now - cached[0] < self.remember:
            return cached[1]
        try:
            names = frozenset(os.listdir(directory))
        except OSError:
            names = frozenset()
        if len(self._listings) > 16384:
            self._listings.clear()
        self._listings[directory] = (now, names)
        return names

    # ------------------------------------------------------------ models
    def load(self, file: Path) -> Optional[SemanticModel]:
        """The semantic model of a project file; None when unreadable or unparsable."""
        key = str(file.resolve())
        try:
            st = os.stat(key)
        except OSError:
            return None
        sig = (st.st_mtime_ns, st.st_size)
        cached = self._models.get(key)
        if cached is not None and cached[0] == sig:
            self._models.move_to_end(key)
            return cached[1]
        model = None
        if st.st_size <= MAX_BYTES:
            model = _build(key)
        self._models[key] = (sig, model)
        self._models.move_to_end(key)
        while len(self._models) > self.max_models:
            self._models.popitem(last=False)
        return model


    def says_tensorflow(self, file: Path) -> bool:
        """Whether a project file's text has the evidence words of TensorFlow
        or Keras (``kmlint.semantics.evidence``): without them its model's
        ``uses_tensorflow`` cannot hold, so it need not be parsed to know.
        Remembered while the file's mtime and size stay the same."""
        key = str(file)
        try:
            st = os.stat(key)
            sig = (st.st_mtime_ns, st.st_size)
            cached = self._tensorflow_words.get(key)
            if cached is not None and cached[0] == sig:
                return cached[1]
            with open(key, encoding="utf-8", errors="replace") as f:
                answer = has_evidence("tensorflow", f.read())
        except OSError:
            return False
        if len(self._tensorflow_words) > 65536:
            self._tensorflow_words.clear()
        self._tensorflow_words[key] = (sig, answer)
        return answer


def _build(path: str) -> Optional[SemanticModel]:
    try:
        text = Path(path).read_text(encoding="utf-8")
        return build_model(parse(text, path), text)
    except (OSError, UnicodeDecodeError, SyntaxError, RecursionError, MemoryError, ValueError):
        return None


_default: Optional[ProjectIndex] = None


def default_index() -> ProjectIndex:
    """The process' index, for callers that do not own a run."""
    global _default
    if _default is None:
        _default = ProjectIndex()
    return _default


def _index(index: Optional[ProjectIndex]) -> ProjectIndex:
    return index if index is not None else default_index()


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


def project_root(file: Path, index: Optional[ProjectIndex] = None) -> Path:
    return _index(index).project_root(file)


def _search(importer: Path, dotted: str, idx: ProjectIndex) -> tuple[int, list[str], list[Path]]:
    """(relative level, dotted parts, base directories) where an import of
    ``importer`` is looked up: next to the file and at the project root, or
    ``level`` directories up for a relative import."""
    level = len(dotted) - len(dotted.lstrip("."))
    parts = [p for p in dotted.lstrip(".").split(".") if p]
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        return level, parts, [base]
    root = idx.project_root(importer)
    return level, parts, [importer.parent] if importer.parent == root else [importer.parent, root]


def resolve(importer: Path, dotted: str, index: Optional[ProjectIndex] = None,
            itself: Optional[Path] = None) -> Optional[tuple[Path, list[str]]]:
    """The project file a dotted name lives in, and the attribute path left
    inside it: ``utils.gpu.setup_gpu`` -> (``<root>/utils/gpu.py``, ["setup_gpu"]).
    ``itself``: the importer's resolved path, when the caller knows it."""
    idx = _index(index)
    candidates = _candidates(importer, dotted, idx)
    if candidates:
        if itself is None:
            itself = idx.resolved(importer)
        for f, real, rest in candidates:
            if real != itself:
                return f, list(rest)
    return None


def _candidates(importer: Path, dotted: str, idx: ProjectIndex) -> list:
    """The module files an import of ``dotted`` from ``importer``'s directory
    may name, best first (the importer itself is excluded by ``resolve``);
    remembered per directory like the module files they come from."""
    where = os.path.dirname(str(importer))  # no Path objects: called per import per file
    if not os.path.isabs(where):
        where = os.path.join(os.getcwd(), where)  # the memory outlives a change of directory
    key = (where, dotted)
    now = idx.clock()
    cached = idx._lookups.get(key)
    if cached is not None and now - cached[0] < idx.remember:
        return cached[1]
    level, parts, bases = _search(importer, dotted, idx)
    found = []
    for i, base in enumerate(bases):
        if i and not level:
            # the project root: the same answer for every directory below it
            found.extend(_base_candidates(base, parts, level, idx, now, shared=True))
        else:
            found.extend(_base_candidates(base, parts, level, idx, now))
    if len(idx._lookups) > 65536:
        idx._lookups.clear()
    idx._lookups[key] = (now, found)
    return found


def _base_candidates(base: Path, parts: list[str], level: int, idx: ProjectIndex, now: float,
                     shared: bool = False) -> list:
    """The module files the prefixes of ``parts`` name under ``base``, longest first."""
    if shared:
        key = ("<root>", str(base), tuple(parts))
        cached = idx._lookups.get(key)
        if cached is not None and now - cached[0] < idx.remember:
            return cached[1]
    found = []
    # neither `parts[0].py` nor `parts[0]/` here: no prefix of `parts` is a module, but a relative
    # import's package itself still is (`from . import name` of its __init__.py, k = 0)
    longest = len(parts) if not parts or idx.may_hold(str(base), parts[0], now) else 0
    for k in range(longest, -1 if level else 0, -1):
        f, real = idx.module_file(base, parts[:k])
        if f is not None:
            found.append((f, real, tuple(parts[k:])))
    if shared:
        idx._lookups[key] = (now, found)
    return found


def missing_module_paths(importer: Path, dotted: str, index: Optional[ProjectIndex] = None) -> list[str]:
    """The paths whose creation would make ``resolve(importer, dotted)`` find a
    project file, for a target it does not find: per base directory, the
    ``.py`` file and the package directory of each prefix of the dotted name,
    stopping at the first directory that does not exist (creating anything
    below it creates it, and the cache sees a directory appear)."""
    idx = _index(index)
    level, parts, bases = _search(importer, dotted, idx)
    out: list[str] = []
    for base in bases:
        try:
            d = idx.resolved(base)
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


def load(file: Path, index: Optional[ProjectIndex] = None) -> Optional[SemanticModel]:
    """The semantic model of a project file; None when unreadable or unparsable."""
    return _index(index).load(file)


def imported_project_modules(model: SemanticModel, importer: Path,
                             index: Optional[ProjectIndex] = None) -> dict[str, tuple[Path, list[str]]]:
    """Import targets of a file (as the model spells them) that are project files."""
    if index is None:
        index = getattr(model, "project_index", None)
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
                if isinstance(b.node, ast.Import):  # import utils.gpu binds `utils`; calls read utils.gpu.f
                    targets.extend(a.name for a in b.node.names)
                elif b.imported:
                    targets.append(b.imported)
    for target in targets:
        if target and target not in out:
            found = resolve(importer, target, index)
            if found is not None:
                out[target] = found
                model.dependencies.add(str(found[0].resolve()))
            else:
                # creating the module later must invalidate a cached result
                model.dependencies.update(missing_module_paths(importer, target, index))
    model._memo["project_imports"] = out
    return out


def _imported_binding(model: SemanticModel, importer: Path, func: ast.expr, deps: set[str], kind: str,
                      tensorflow_only: bool = False, index: Optional[ProjectIndex] = None):
    """The module-level binding of ``kind`` ("def" or "class") in another
    project file that ``func`` names through this file's imports, as (that
    file's model, the binding, its path); None otherwise.  The file is added
    to ``deps`` whenever it was consulted; ``tensorflow_only``: a file whose
    text cannot use TensorFlow or Keras (``says_tensorflow``) is not parsed,
    and None is returned."""
    if index is None:
        index = getattr(model, "project_index", None)
    q = model.qualname(func)
    if not q:
        return None
    modules = imported_project_modules(model, importer, index)
    if not any(q == t or q.startswith(t + ".") for t in modules):
        return None
    found = resolve(importer, q, index)
    if found is None:
        return None
    helper_file, rest = found
    deps.add(str(helper_file.resolve()))
    idx = _index(index)
    if tensorflow_only and not idx.says_tensorflow(helper_file):
        return None
    helper = idx.load(helper_file)
    if helper is None or len(rest) != 1:
        return None
    for b in helper.module_scope.bindings.get(rest[0], ()):
        if b.kind == kind:
            return helper, b, helper_file
    return None


def called_function(model: SemanticModel, importer: Path, call, deps: set[str], tensorflow_only: bool = False,
                    index: Optional[ProjectIndex] = None):
    """The function of another project file that a call site calls
    (``setup_gpu()`` after ``from utils.gpu import setup_gpu``), as
    (that file's model, its FunctionInfo, its path); None otherwise.  The file
    is added to ``deps`` whenever it was consulted.  ``tensorflow_only``: only
    a file whose text can use TensorFlow or Keras is parsed (None otherwise)."""
    found = _imported_binding(model, importer, call.node.func, deps, "def", tensorflow_only, index)
    if found is None or found[1].function is None:
        return None
    return found[0], found[1].function, found[2]


def imported_class(model: SemanticModel, importer: Path, func: ast.expr, deps: set[str],
                   index: Optional[ProjectIndex] = None):
    """The class of another project file that ``func`` names (``VGG16`` after
    ``from network import VGG16``), as (that file's model, its ClassDef, its
    path); None otherwise.  The file is added to ``deps`` when consulted."""
    if not importer.is_file():
        return None
    found = _imported_binding(model, importer, func, deps, "class", None, index)
    if found is None or not isinstance(found[1].node, ast.ClassDef):
        return None
    return found[0], found[1].node, found[2]
