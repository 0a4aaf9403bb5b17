"""Run manifests: a repeated ``kmlint check`` whose inputs did not change
prints the previous run's report without starting the linter.

The per-file result cache (``engine/cache.py``) still costs a warm run the
import of the whole pipeline and, per file, a settings lookup, a display path,
a cache key and an entry read (~0.25 ms a file).  A *run manifest* answers the
whole command at once: when a ``kmlint check`` ends normally, it records
everything its report depended on in the file system and the report itself,
under ``.kmlint_cache/runs/<name>.bin``:

* the command: the command line, the working directory, the Python
  interpreter, the kmlint package's location, whether stdout/stderr are
  terminals (and stdout's encoding) and the environment variables that can
  change a report (``KMLINT_*``, ``GIT_*``, ``XDG_*``, ``HOME``, ...); the
  file is named by two checksums of it and holds it whole (compared exactly);
* ``listings``: the entries (names; directories marked ``/``) of every
  directory discovery walked, as it walked them (a new, removed or renamed
  file or directory changes them);
* ``states``: the ``stat`` state (``[mtime_ns, ctime_ns, size, inode]`` of a
  regular file, ``"d"`` a directory, ``"o"`` anything else, ``null`` absent) of
  every other path it looked at: each linted file, the project files its
  results depend on (``FileResult.dependencies``), each config file and each
  place a config file was looked for, ``.gitignore``/``.git``/git's exclude
  files, each subdirectory's ``pyvenv.cfg``, and kmlint's own modules and data.

A run replays a manifest (``try_replay``, called by the ``kmlint`` entry point
before anything else is imported: no click, no engine) only when every listing
and state is the same now.  A manifest is written only when nothing it records
changed from 2 s before the run started (git's "racily clean" rule: a file
modified while the run read it, or within one timestamp tick before, makes no
manifest), and only for plain reports: no fixing, no stdin, no runtime mode,
no output file, no baseline, no discovery problem or internal error.  Anything
unreadable or of another layout is ignored (a normal run follows and writes a
fresh one).  Only the newest ``KEEP`` manifests of a cache are kept.

An absent path in a walked directory whose listing lacks its name is not
recorded as a state: the listing already says it is absent.

This module imports only modules built into the interpreter (a warm run loads
nothing else: ~1 ms); a manifest is written with ``marshal``, the fastest
reader Python has (the interpreter's version is part of the command, so a
manifest is never read by another version's ``marshal``).
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import time
import zlib

FORMAT = 1
CACHE_DIR_NAME = ".kmlint_cache"
RUNS = "runs"
KEEP = 32
# a file changed this shortly before the run started may have changed again
# within the same timestamp tick (same value as engine.cache.RACY_NS)
RACY_NS = 2_000_000_000
ENV_PREFIXES = ("KMLINT_", "GIT_", "XDG_", "PYTHON")
ENV_NAMES = ("HOME", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LANG", "LC_ALL", "LC_CTYPE")
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def state(path: str):
    """The state a manifest records for ``path`` (see the module docstring)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(st.st_mode):
        return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]
    return "d" if stat.S_ISDIR(st.st_mode) else "o"


def _names(entries) -> list[str]:
    names = []
    for e in entries:
        name = e.name
        if name == CACHE_DIR_NAME:
            continue  # the run's own cache: created by the first run
        try:
            is_dir = e.is_dir()
        except OSError:
            is_dir = False
        names.append(name + "/" if is_dir else name)
    names.sort()
    return names


def listing(directory: str) -> list[str] | None:
    try:
        with os.scandir(directory) as it:
            return _names(it)
    except (OSError, ValueError):
        return None


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def command(argv: list[str]) -> str:
    """Everything besides the file system that a report depends on (see the
    module docstring), as text."""
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIXES) or k in ENV_NAMES)
    out = sys.stdout
    return repr([FORMAT, sys.executable, sys.version, PACKAGE, os.getcwd(), list(argv), env, _isatty(out),
                 _isatty(sys.stderr), getattr(out, "encoding", None), getattr(out, "errors", None)])


def file_name(command_text: str) -> str:
    data = command_text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.bin"


class Recording:
    """A ``kmlint check`` run that may leave a manifest: its command, and when
    it started (before anything it depends on was read)."""

    def __init__(self, command_text: str, started_ns: int):
        self.command = command_text
        self.started_ns = started_ns


class Witness:
    """What one run looked at in the file system while it ran (config lookups,
    discovery); the rest is added when the manifest is recorded."""

    def __init__(self):
        self.states: dict[str, object] = {}
        self.listings: dict[str, list[str]] = {}
        self.spoiled = False  # a path looked different twice in one run

    def probe(self, path) -> object:
        """The state of ``path`` now, remembered (absolute paths: the command has
        the working directory, but a manifest found from a subdirectory must
        not be read relative to it)."""
        p = os.path.abspath(path)
        s = state(p)
        known = self.states.setdefault(p, s)
        if known != s:
            self.spoiled = True
        return s

    def scanned(self, directory, entries) -> None:
        """``entries``: the ``os.DirEntry`` list discovery walked in ``directory``."""
        d = os.path.abspath(directory)
        names = _names(entries)
        if self.listings.setdefault(d, names) != names:
            self.spoiled = True


# ------------------------------------------------------------------ replaying


def _candidates(name: str):
    d = os.getcwd()
    while True:
        yield os.path.join(d, CACHE_DIR_NAME, RUNS, name)
        parent = os.path.dirname(d)
        if parent == d:
            return
        d = parent


def _load(command_text: str) -> dict | None:
    for path in _candidates(file_name(command_text)):
        try:
            with open(path, "rb") as f:
                data = marshal.loads(f.read())
        except FileNotFoundError:
            continue
        except (OSError, ValueError, EOFError, TypeError, RecursionError):
            return None
        if isinstance(data, dict) and data.get("format") == FORMAT and data.get("command") == command_text:
            return data
        return None
    return None


def _unchanged(data: dict) -> bool:
    listings, states = data.get("listings"), data.get("states")
    if not isinstance(listings, dict) or not isinstance(states, dict):
        return False
    for directory, names in listings.items():
        if listing(directory) != names:
            return False
    for path, want in states.items():
        if state(path) != want:
            return False
    return True


def try_replay(argv: list[str]) -> tuple[int | None, Recording | None]:
    """``(exit code, None)`` after printing a still-valid manifest's report;
    else ``(None, recording)`` for the run to record one (``recording`` None:
    not a ``check`` command, or no working directory)."""
    if not argv or argv[0] != "check":
        return None, None
    started = time.time_ns()
    try:
        rec = Recording(command(argv), started)
        data = _load(rec.command)
    except (OSError, ValueError):
        return None, None
    if data is None:
        return None, rec
    out, code = data.get("stdout"), data.get("exit")
    if not isinstance(out, str) or not isinstance(code, int) or isinstance(code, bool):
        return None, rec
    if not _unchanged(data):
        return None, rec
    stream = sys.stdout
    try:
        out.encode(stream.encoding or "utf-8", stream.errors or "strict")
    except (UnicodeEncodeError, LookupError, AttributeError):
        return None, rec  # what the normal run does with it is its business
    stream.write(out)
    stream.flush()
    return code, None


# ------------------------------------------------------------------ recording


def _package_files() -> list[str]:
    out = []
    for d, dirs, files in os.walk(PACKAGE):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        out.extend(os.path.join(d, f) for f in files if not f.endswith((".pyc", ".pyo")))
    return out


def _trusted(path: str, s, limit: int, listings: dict[str, list[str]]) -> bool:
    """Whether the state taken at the end of a run is what the run read: a
    file unchanged since ``limit``; an absent path that was absent too when
    discovery listed its directory (only a file created and deleted again
    while the run went on escapes this), or else whose nearest existing
    directory has had no entry added or removed since ``limit``."""
    if isinstance(s, list):
        return max(s[0], s[1]) < limit
    if s is not None:
        return True
    d = os.path.dirname(path)
    names = listings.get(d)
    if names is not None:
        name = os.path.basename(path)
        return name not in names and name + "/" not in names
    while True:
        try:
            st = os.stat(d)
            return max(st.st_mtime_ns, st.st_ctime_ns) < limit
        except FileNotFoundError:
            parent = os.path.dirname(d)
            if parent == d:
                return False
            d = parent
        except (OSError, ValueError):
            return False


def record(rec: Recording, witness: Witness, cache_dir: str, *, stdout: str, exit_code: int,
           files: list[str], dependencies: list[str], configs: list[str]) -> bool:
    """Write the manifest of a finished run (see the module docstring);
    False when it was not trusted or could not be written.  ``files``: the
    linted files; ``configs``: the config files the settings were read from."""
    if witness.spoiled:
        return False
    cache_dir = os.path.abspath(cache_dir)
    if os.path.basename(cache_dir) != CACHE_DIR_NAME:
        return False  # a configured cache-dir: try_replay would not look there
    cwd = os.getcwd()
    base = os.path.dirname(cache_dir)
    if not (cwd == base or cwd.startswith(base.rstrip(os.sep) + os.sep)):
        return False
    limit = rec.started_ns - RACY_NS
    states = dict(witness.states)
    for p, s in states.items():
        if isinstance(s, list) and max(s[0], s[1]) >= limit:
            return False
    late = {os.path.abspath(p) for p in (*files, *dependencies, *configs, *_package_files())}
    for p in late:
        s = state(p)
        if not _trusted(p, s, limit, witness.listings) or states.setdefault(p, s) != s:
            return False
    listed = witness.listings
    for p in [p for p, s in states.items() if s is None]:
        names = listed.get(os.path.dirname(p))
        if names is not None and os.path.basename(p) not in names and os.path.basename(p) + "/" not in names:
            del states[p]  # the listing says it is absent
    data = {"format": FORMAT, "command": rec.command, "exit": exit_code, "stdout": stdout,
            "listings": listed, "states": states}
    runs = os.path.join(cache_dir, RUNS)
    try:
        blob = marshal.dumps(data)
        os.makedirs(runs, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=runs, prefix=".tmp-", suffix=".bin")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, os.path.join(runs, file_name(rec.command)))
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        _prune(runs)
    except (OSError, ValueError, TypeError):
        return False
    return True


def _prune(runs: str) -> None:
    try:
        with os.scandir(runs) as it:
            entries = [(e.stat().st_mtime_ns, e.path) for e in it if e.name.endswith(".bin")]
    except OSError:
        return
    entries.sort(reverse=True)
    for _, path in entries[KEEP:]:
        try:
            os.unlink(path)
        except OSError:
            pass
