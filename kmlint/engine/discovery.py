"""Finding the files to lint: recursive, ``.gitignore``-aware, with default and
configured excludes.  Files named explicitly on the command line are always
linted (unless they match an ``exclude`` given explicitly, like Ruff's
``--force-exclude``, which we do not implement)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fnmatch import translate
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Union

from kmlint.config import ConfigResolver
from kmlint.engine.paths import resolved

if TYPE_CHECKING:  # pragma: no cover
    import pathspec

EXTENSIONS = (".py", ".pyi", ".ipynb")
DEFAULT_EXCLUDES = [
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".env", "env", "__pypackages__", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".kmlint_cache", "__pycache__", "build", "dist",
    "node_modules", "site-packages", ".ipynb_checkpoints", ".eggs", "*.egg-info",
]


@dataclass
class DiscoveryProblem:
    path: str
    message: str


# a pattern that is a bare name or glob of one path component (no slash inside,
# no negation, escape, character class or comment): what the default excludes are
_SIMPLE_PATTERN = re.compile(r"[\w.*?-]+/?")


class NameSpec:
    """gitignore matching for patterns that each name one path component
    (``build``, ``*.egg-info``, ``dist/``): a path matches when one of its
    directories, or its last component, matches a pattern (a trailing ``/``:
    directories only).  Exactly what git (and pathspec's GitIgnoreSpec) does
    for such patterns, without importing pathspec: a run on a few files named
    by pre-commit starts ~25 ms sooner."""

    def __init__(self, patterns: list[tuple[str, bool]]):
        self.patterns = patterns
        self._any = _one_regex([p for p, dir_only in patterns])  # a file or a directory
        self._files = _one_regex([p for p, dir_only in patterns if not dir_only])  # the last part when a file

    def match_file(self, path: str) -> bool:
        is_dir = path.endswith("/")
        parts = [p for p in path.rstrip("/").split("/") if p not in (".", "")]  # "./a" is "a", as in pathspec
        if not parts:
            return False
        match_any = self._any
        for part in parts[:-1]:  # directories
            if match_any(part):
                return True
        return bool((match_any if is_dir else self._files)(parts[-1]))


def _one_regex(patterns: list[str]):
    if not patterns:
        return lambda name: None
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns)).match


def _spec(patterns: list[str]) -> Union["pathspec.PathSpec", NameSpec]:
    lines = [p.strip() for p in patterns]
    lines = [p for p in lines if p]
    if all(_SIMPLE_PATTERN.fullmatch(p) and p.strip("./") and "**" not in p for p in lines):
        return NameSpec([(p.rstrip("/"), p.endswith("/")) for p in lines])
    import pathspec

    # GitIgnoreSpec follows git's own precedence rules (e.g. re-including files)
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _is_venv(d: Path, witness=None) -> bool:
    if witness is not None:
        witness.probe(d / "pyvenv.cfg")
    try:
        return (d / "pyvenv.cfg").is_file()
    except OSError:
        # a directory we may not search (chmod 000 as a normal user): not
        # skipped here, so the walk reports it as unreadable and goes on
        return False


def _is_file(p: Path, witness=None) -> bool:
    if witness is not None:
        witness.probe(p)
    try:
        return p.is_file()
    except OSError:
        return False


def discover(paths: list[str], resolver: ConfigResolver, problems: list[DiscoveryProblem],
             force_exclude: bool = False, witness=None) -> Iterator[Path]:
    """``witness``: a run recording its manifest (``engine.manifest.Witness``)
    sees each path discovery looks at and each directory listing it walks."""
    seen: set[str] = set()  # resolved paths
    for raw in paths:
        p = Path(raw)
        if witness is not None:
            witness.probe(raw)
        try:
            if p.is_file():
                if force_exclude and _explicit_file_excluded(p, resolver):
                    continue
                key = str(resolved(p))
                if key not in seen:
                    seen.add(key)
                    yield p
                continue
            if p.is_dir():
                yield from _walk(p, resolver, problems, seen, witness)
                continue
        except OSError as e:
            problems.append(DiscoveryProblem(raw, f"cannot access: {e.strerror or e}"))
            continue
        problems.append(DiscoveryProblem(raw, _why_not_a_file(p)))


def _why_not_a_file(p: Path) -> str:
    if p.is_symlink():
        return "broken symbolic link (its target is missing, or it points to itself)"
    if os.path.lexists(p):
        return "not a regular file (a pipe, socket or device); skipped"
    return "no such file or directory"


def _explicit_file_excluded(p: Path, resolver: ConfigResolver) -> bool:
    """--force-exclude: apply exclude patterns to files named explicitly too
    (pre-commit passes every staged file by name)."""
    settings = resolver.for_file(p)
    spec = _spec(_exclude_patterns(settings))
    root = settings.root.resolve()
    for parent in [p, *p.parents]:
        if parent == Path(".") or str(parent) == "":
            break
        if _excluded(parent, parent != p, spec, root):
            return True
    return False


def _exclude_patterns(settings) -> list[str]:
    return list(settings.exclude if settings.exclude is not None else DEFAULT_EXCLUDES) + list(settings.extend_exclude)


def _walk(top: Path, resolver: ConfigResolver, problems, seen: set[Path], witness=None) -> Iterator[Path]:
    settings = resolver.for_dir(top)
    exclude_spec = _spec(_exclude_patterns(settings))
    root = settings.root.resolve()
    visited_dirs: set[tuple[int, int]] = set()
    # stack of (dir, [(base_dir, gitignore spec), ...])
    ignores: list[tuple[Path, pathspec.PathSpec]] = []
    if settings.respect_gitignore:
        for parent in reversed([top.resolve(), *top.resolve().parents]):
            gi = parent / ".gitignore"
            if _is_file(gi, witness):
                ignores.append((parent, _read_gitignore(gi)))
            if witness is not None:
                witness.probe(parent / ".git")
            if os.path.exists(parent / ".git"):
                ignores = [(b, s) for b, s in ignores if b == parent or parent in b.parents or b in parent.parents]
                ignores.extend((parent, spec) for spec in git_excludes(parent, witness))
    stack: list[tuple[Path, list]] = [(top, ignores)]
    while stack:
        d, gis = stack.pop()
        try:
            st = d.stat()
        except OSError as e:
            problems.append(DiscoveryProblem(str(d), f"cannot access: {e.strerror or e}"))
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited_dirs:
            continue  # symlink loop
        visited_dirs.add(key)
        if settings.respect_gitignore and d != top:
            gi = d / ".gitignore"
            if _is_file(gi, witness):
                gis = gis + [(d.resolve(), _read_gitignore(gi))]
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as e:
            problems.append(DiscoveryProblem(str(d), f"cannot read directory: {e.strerror or e}"))
            continue
        if witness is not None:
            witness.scanned(d, entries)
        try:
            # each entry that is no symlink resolves to this plus its name: no pathlib per entry
            real_dir = str(resolved(d)).rstrip(os.sep) + os.sep
        except OSError:
            real_dir = None
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
                real = real_dir + entry.name if real_dir is not None and not entry.is_symlink() else None
            except OSError:
                continue
            try:
                if _excluded(path, is_dir, exclude_spec, root, real) or (gis and _gitignored(path, is_dir, gis, real)):
                    continue
            except Exception as e:  # noqa: BLE001 - one odd name costs that entry, not the walk
                problems.append(DiscoveryProblem(str(path), f"cannot match it against the exclusions: "
                                                            f"{type(e).__name__}: {e}; skipped"))
                continue
            if is_dir:
                if _is_venv(path, witness):
                    continue
                subdirs.append((path, gis))
            elif is_file and entry.name.endswith(EXTENSIONS):
                try:
                    k = real if real is not None else str(resolved(path))
                except OSError:
                    continue
                if k not in seen:
                    seen.add(k)
                    yield path
        stack.extend(reversed(subdirs))


def _read_gitignore(path: Path) -> pathspec.PathSpec:
    try:
        return _spec(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return _spec([])


def _excluded(path: Path, is_dir: bool, spec, root: Path, real: Optional[str] = None) -> bool:
    """``real``: the entry's resolved path when the caller knows it."""
    name = path.name + ("/" if is_dir else "")
    if spec.match_file(name):
        return True
    rel = _relative(path, root, real)
    if rel is None:
        return False
    return spec.match_file(rel + ("/" if is_dir else ""))


def _relative(path: Path, base: Path, real: Optional[str]) -> Optional[str]:
    """``resolved(path).relative_to(base).as_posix()``, None when outside."""
    if real is not None:
        prefix = str(base).rstrip(os.sep) + os.sep
        return real[len(prefix):].replace(os.sep, "/") if real.startswith(prefix) else None
    try:
        return resolved(path).relative_to(base).as_posix()
    except (ValueError, OSError):
        return None


def _gitignored(path: Path, is_dir: bool, gis, real: Optional[str] = None) -> bool:
    if real is None:
        try:
            full = resolved(path) if not path.is_symlink() else path.absolute()
        except OSError:
            return False
        real = str(full)
    for base, spec in gis:
        rel = _relative(path, base, real)
        if rel is None:
            continue
        if spec.match_file(rel + ("/" if is_dir else "")):
            return True
    return False


# ----------------------------------------------------------------- git's other ignore files


def git_excludes(repo: Path, witness=None) -> list[pathspec.PathSpec]:
    """The ignore files git reads besides ``.gitignore``, for the repository at
    ``repo``: ``$GIT_DIR/info/exclude`` and the global excludes file
    (``core.excludesFile``, default ``$XDG_CONFIG_HOME/git/ignore`` or
    ``~/.config/git/ignore``).  Their patterns are relative to the repository root."""
    specs = []
    git_dir = _git_dir(repo)
    files = []
    if git_dir is not None:
        files.append(_common_dir(git_dir) / "info" / "exclude")
    global_file = _global_excludes_file(git_dir)
    if global_file is not None:
        files.append(global_file)
    if witness is not None:
        for read in _git_files_read(repo, git_dir, files):
            witness.probe(read)
    for f in files:
        try:
            if f.is_file():
                specs.append(_read_gitignore(f))
        except OSError:
            continue
    return specs


def _git_files_read(repo: Path, git_dir: Optional[Path], excludes: list[Path]) -> list[Path]:
    """Every file whose content ``git_excludes`` depends on."""
    out = [repo / ".git", *_git_configs(git_dir), *excludes]
    if git_dir is not None:
        out.append(git_dir / "commondir")
    return out


def _git_dir(repo: Path) -> Optional[Path]:
    dot = repo / ".git"
    try:
        if dot.is_dir():
            return dot
        if dot.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = dot.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                return target if target.is_absolute() else (repo / target).resolve()
    except OSError:
        pass
    return None


def _common_dir(git_dir: Path) -> Path:
    """A linked worktree's git dir names the main one in ``commondir``."""
    try:
        common = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    p = Path(common)
    return p if p.is_absolute() else (git_dir / p).resolve()


def _xdg_config() -> str:
    return os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")


def _git_configs(git_dir: Optional[Path]) -> list[Path]:
    """git's config files, later ones winning as in git: global (XDG, then
    ~/.gitconfig), then the repository's."""
    configs = [Path(_xdg_config()) / "git" / "config", Path.home() / ".gitconfig"]
    if git_dir is not None:
        configs.append(_common_dir(git_dir) / "config")
    return configs


def _global_excludes_file(git_dir: Optional[Path]) -> Optional[Path]:
    xdg = _xdg_config()
    configured = None
    for config in _git_configs(git_dir):
        value = _config_value(config, "core", "excludesfile")
        if value is not None:
            configured = (value, config)
    if configured is not None:
        value, config = configured
        if value.startswith("~"):
            return Path(value).expanduser()
        p = Path(value)
        return p if p.is_absolute() else config.parent / p
    return Path(xdg) / "git" / "ignore"


def _config_value(path: Path, section: str, key: str) -> Optional[str]:
    """The last ``key`` of ``[section]`` in a git config file (a plain reading:
    no includes, no subsections)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    current, value = None, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = line[1:line.find("]")].strip().lower() if "]" in line else None
            continue
        if current != section or "=" not in line:
            continue
        name, _, rest = line.partition("=")
        if name.strip().lower() != key:
            continue
        rest = rest.strip()
        if rest.startswith('"') and rest.endswith('"') and len(rest) >= 2:
            rest = rest[1:-1]
        else:
            for marker in (" #", " ;", "\t#", "\t;"):
                if marker in rest:
                    rest = rest[:rest.index(marker)].rstrip()
        value = rest
    return value
