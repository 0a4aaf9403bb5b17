"""The result cache: ``.kmlint_cache/`` at the project root (like Ruff's).

One small JSON entry per linted file, named by a hash of everything that can
change its findings except contents: the kmlint code (version, and the size and
mtime of its own modules so a development checkout never serves results of
older rule code), the registered rules, the effective settings
(``Settings.fingerprint()``) and the file's path.  The entry records the hash
of the content that was linted and the hashes of the project files the result
depended on (``FileResult.dependencies``, e.g. KM501 following imports); a
read is a hit only when all of them still match, so an edit simply makes the
next run lint again and overwrite the entry.  Entries are written to a
temporary file and renamed into place, so concurrent runs never see half an
entry; anything unreadable or malformed is a miss.  Only detached results
(no libcst trees) are stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional, Union

import kmlint
from kmlint.config import Settings
from kmlint.engine.paths import node_state, path_bytes, read_regular, resolved
from kmlint.findings import Edit, Finding, Fix

CACHE_DIR_NAME = ".kmlint_cache"
FORMAT = "3"  # bump when the entry layout changes


def cache_dir_for(settings: Settings) -> Path:
    if settings.cache_dir:
        configured = Path(settings.cache_dir).expanduser()
        return configured if configured.is_absolute() else settings.root / configured
    return settings.root / CACHE_DIR_NAME


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_CODE_FINGERPRINT: Optional[str] = None


def code_fingerprint() -> str:
    """kmlint's version, its modules (size and mtime) and the registered rules."""
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is None:
        from kmlint.registry import all_meta

        package = Path(kmlint.__file__).parent
        parts = [kmlint.__version__, FORMAT]
        for p in sorted(package.rglob("*.py")):
            try:
                st = p.stat()
            except OSError:
                continue
            parts.append(f"{p.relative_to(package).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
        parts.extend(f"{r.code}={r.module}" for r in all_meta())
        _CODE_FINGERPRINT = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return _CODE_FINGERPRINT


# A file changed less than this long ago may change again within the same
# timestamp tick (file systems with coarse times): its signature is not trusted.
RACY_NS = 2_000_000_000


def stat_signature(path) -> Optional[list[int]]:
    """``[mtime_ns, ctime_ns, size, inode]`` of a regular file, taken before
    its content is read, when its last change is old enough to trust (git's
    "racily clean" rule); None otherwise.  A warm run whose entry has the
    file's current signature skips reading and hashing it (ctime changes on
    every write, even when the mtime is set back)."""
    sig = _signature_now(path)
    if sig is None or time.time_ns() - max(sig[0], sig[1]) < RACY_NS:
        return None
    return sig


def _signature_now(path) -> Optional[list[int]]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def _file_hash(path: str) -> Optional[str]:
    """A dependency's state: its content hash, "<dir>" for a directory (a
    missing module ``utils`` that became a package), None when absent or
    unreadable.  Never blocks on a FIFO."""
    state = node_state(path)
    return content_hash(state) if isinstance(state, bytes) else state


class ResultCache:
    def __init__(self, directory: Path):
        self.directory = directory
        self.writable = True
        self._fingerprints: dict[int, tuple[Settings, str]] = {}  # one run's settings objects

    def key(self, path: Path, display: str, settings: Settings) -> str:
        known = self._fingerprints.get(id(settings))
        if known is None or known[0] is not settings:
            known = self._fingerprints[id(settings)] = (settings, settings.fingerprint())
        text = "\0".join((code_fingerprint(), known[1], _absolute(str(path)), display))
        return hashlib.sha256(path_bytes(text)).hexdigest()  # a file name may hold surrogate escapes

    def _entry(self, key: str) -> Path:
        return self.directory / "v1" / key[:2] / f"{key}.json"

    def get(self, key: str, digest: Union[str, Callable[[], str]], path=None):
        """The cached FileResult when the entry matches the content's
        ``digest`` and none of its dependencies changed, else None (every
        output format is served by one entry: fixes carry their located
        edits).  With ``path``, a file whose stat signature is the entry's is
        taken as unchanged without ``digest`` (a callable then) being computed."""
        return self.lookup(key, digest, path)[0]

    def lookup(self, key: str, digest: Union[str, Callable[[], str]], path=None):
        """``(result or None, whether the content had to be hashed)``."""
        from kmlint.engine.linter import FileResult

        hashed = False
        try:
            data = json.loads(read_regular(self._entry(key)).decode("utf-8"))
            if not isinstance(data, dict):
                return None, hashed
            sig = data.get("signature")
            if sig is None or path is None or _signature_now(path) != sig:
                hashed = True
                if data["content"] != (digest() if callable(digest) else digest):
                    return None, hashed
            deps = data["dependencies"]
            dep_sigs = data.get("dependency_signatures") or {}
            if not isinstance(deps, dict) or not isinstance(dep_sigs, dict):
                return None, hashed
            for dep, dep_hash in deps.items():
                dep_sig = dep_sigs.get(dep)
                if dep_sig is not None and _signature_now(dep) == dep_sig:
                    continue
                if _file_hash(dep) != dep_hash:
                    return None, hashed
            r = data["result"]
            if not isinstance(r, dict) or not isinstance(r["findings"], list) or not isinstance(r["path"], str):
                return None
            findings = [_finding(f) for f in r["findings"]]
            return FileResult(r["path"], findings, _int(r["internal_errors"]), _bool(r["skipped"]), None,
                              list(deps)), hashed
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
            return None, hashed  # absent, half-written by a crashed older version, or foreign: a miss

    def put(self, key: str, digest: str, result, signature: Optional[list[int]] = None) -> None:
        """Record ``result`` for content ``digest``; ``signature``: the file's
        ``stat_signature`` taken before that content was read."""
        if not self.writable or result.error or result.internal_errors:
            return  # crashes are reported again on every run, never cached
        dependencies = {_absolute(dep): None for dep in result.dependencies}
        dep_sigs = {dep: stat_signature(dep) for dep in dependencies}  # before the hashes are taken
        entry = {
            "content": digest,
            "signature": signature,
            "dependencies": {dep: _file_hash(dep) for dep in dependencies},
            "dependency_signatures": dep_sigs,
            "result": {
                "path": result.path,
                "findings": [_finding_json(f) for f in result.findings],
                "internal_errors": result.internal_errors,
                "skipped": result.skipped,
            },
        }
        try:
            text = json.dumps(entry, separators=(",", ":"))
        except (TypeError, ValueError):
            return  # a rule put something exotic in Finding.extra: lint it again next time
        target = self._entry(key)
        try:
            self._prepare(target.parent)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)
                os.replace(tmp, target)  # atomic: readers see the old or the new entry
            except BaseException:
                _unlink(tmp)
                raise
        except OSError:
            self.writable = False  # read-only checkout, full disk: lint on, uncached

    def _prepare(self, entry_dir: Path) -> None:
        if entry_dir.is_dir():
            return
        new = not self.directory.exists()
        entry_dir.mkdir(parents=True, exist_ok=True)
        if new:
            # keep the cache out of version control and backups, as Ruff does
            (self.directory / ".gitignore").write_text("# Automatically created by kmlint.\n*\n")
            (self.directory / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by kmlint.\n")


def _absolute(path: str) -> str:
    try:
        return str(resolved(Path(path)))
    except OSError:
        return str(Path(path).absolute())


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _finding_json(f: Finding) -> dict:
    fix = None
    if f.fix is not None:
        fix = {"applicability": f.fix.applicability, "description": f.fix.description,
               "edits": [[e.content, e.line, e.column, e.end_line, e.end_column] for e in f.fix.edits]}
    return {"code": f.code, "name": f.name, "message": f.message, "path": f.path, "line": f.line,
            "column": f.column, "end_line": f.end_line, "end_column": f.end_column, "severity": f.severity,
            "fix": fix, "cell": f.cell, "extra": f.extra}


def _str(v) -> str:
    if not isinstance(v, str):
        raise TypeError("expected a string")
    return v


def _int(v) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("expected an integer")
    return v


def _bool(v) -> bool:
    if not isinstance(v, bool):
        raise TypeError("expected a boolean")
    return v


def _edit(e) -> Edit:
    if not isinstance(e, list) or len(e) != 5:
        raise TypeError("malformed edit")
    return Edit(_str(e[0]), _int(e[1]), _int(e[2]), _int(e[3]), _int(e[4]))


def _finding(d: dict) -> Finding:
    """A finding read back from an entry; an entry of another shape (valid
    JSON, but foreign or from a future layout) raises TypeError: a miss."""
    if not isinstance(d, dict):
        raise TypeError("malformed finding")
    fix = None
    if d["fix"] is not None:
        fx = d["fix"]
        if not isinstance(fx, dict) or not isinstance(fx["edits"], list):
            raise TypeError("malformed fix")
        fix = Fix(_str(fx["applicability"]), _str(fx["description"]), [_edit(e) for e in fx["edits"]])
    cell = d["cell"]
    if cell is not None:
        _int(cell)
    if not isinstance(d["extra"], dict):
        raise TypeError("malformed extra")
    return Finding(_str(d["code"]), _str(d["name"]), _str(d["message"]), _str(d["path"]), _int(d["line"]),
                   _int(d["column"]), _int(d["end_line"]), _int(d["end_column"]), _str(d["severity"]), fix, cell,
                   None, dict(d["extra"]))
