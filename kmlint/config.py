"""Configuration: ``[tool.kmlint]`` in ``pyproject.toml`` or a ``kmlint.toml``.

Every key is declared once in ``KEYS`` with its type and default; unknown keys,
wrong types and unknown rule selectors raise ``ConfigError`` naming the file and
the key (the CLI turns it into exit code 2).  The nearest configuration file
above each linted file applies (like Ruff); command-line options override it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from kmlint.registry import SelectorError, expand_selector

CONFIG_FILES = ("kmlint.toml", ".kmlint.toml", "pyproject.toml")


class ConfigError(Exception):
    pass


_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*((?:[KMGT]i?)?B)?\s*$", re.IGNORECASE)
_UNITS = {
    None: 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}


def parse_size(value: Any) -> int:
    """Bytes from an int or a string such as ``"100MB"`` or ``"1 GiB"``."""
    if isinstance(value, bool):
        raise ValueError("expected a size")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            unit = m.group(2).upper() if m.group(2) else None
            return int(float(m.group(1)) * _UNITS[unit])
    raise ValueError(f"expected a size in bytes or a string like '100MB', got {value!r}")


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return list(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _pos_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a non-negative integer")
    return value


def _per_file_ignores(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ValueError("expected a table of glob = [codes]")
    return {str(k): _str_list(v) for k, v in value.items()}


@dataclass
class Settings:
    """Effective settings for one file (config file + command line)."""

    select: Optional[list[str]] = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: Optional[list[str]] = None
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    preview: bool = False
    # thresholds used by the rules
    large_tensor_bytes: int = 100 * 10**6
    cache_bytes: int = 2**30
    shuffle_buffer_bytes: int = 2**30
    from_tensor_slices_bytes: int = 100 * 10**6
    prefetch_batches: int = 64
    tiny_loop_iterations: int = 5
    # KM302: float64 data smaller than this is not worth a finding (halving it saves < 32 MiB)
    float64_min_bytes: int = 64 * 2**20
    # engine
    # files larger than this are reported (KM901 "too large to analyse") instead
    # of parsed: analysis memory grows ~1 GB per MB of source (0 = no limit)
    max_file_size: int = 2 * 2**20
    cache_dir: Optional[str] = None
    jobs: Optional[int] = None
    baseline: Optional[str] = None
    output_format: Optional[str] = None
    # where it came from
    config_path: Optional[Path] = None
    root: Path = field(default_factory=Path.cwd)
    sources: tuple[Path, ...] = ()  # every config file read for these settings (``extend`` bases first)

    def fingerprint(self) -> str:
        """Stable text of everything that can change findings (for the cache key)."""
        skip = {"config_path", "root", "sources", "cache_dir", "jobs", "output_format", "baseline"}
        return repr(sorted((f.name, repr(getattr(self, f.name))) for f in fields(self) if f.name not in skip))


# key -> (attribute, parser)
KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "select": ("select", _str_list),
    "ignore": ("ignore", _str_list),
    "extend-select": ("extend_select", _str_list),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "exclude": ("exclude", _str_list),
    "extend-exclude": ("extend_exclude", _str_list),
    "respect-gitignore": ("respect_gitignore", _bool),
    "preview": ("preview", _bool),
    "large-tensor-bytes": ("large_tensor_bytes", parse_size),
    "cache-bytes": ("cache_bytes", parse_size),
    "shuffle-buffer-bytes": ("shuffle_buffer_bytes", parse_size),
    "from-tensor-slices-bytes": ("from_tensor_slices_bytes", parse_size),
    "prefetch-batches": ("prefetch_batches", _pos_int),
    "tiny-loop-iterations": ("tiny_loop_iterations", _pos_int),
    "float64-min-bytes": ("float64_min_bytes", parse_size),
    "max-file-size": ("max_file_size", parse_size),
    "cache-dir": ("cache_dir", _str),
    "jobs": ("jobs", _pos_int),
    "baseline": ("baseline", _str),
    "output-format": ("output_format", _str),
}
SELECTOR_KEYS = ("select", "ignore", "extend-select")
# ``extend`` is read before the other keys (it names the file they apply on)
EXTEND_KEY = "extend"

# What each key means: the configuration reference of the docs site and the
# JSON schema of ``[tool.kmlint]`` (kmlint/kmlint.schema.json) are generated
# from this table, ``KEYS`` and the defaults of ``Settings``
# (tests/test_config_schema.py keeps the three in step).
KEY_DOCS: dict[str, str] = {
    "extend": "Inherit another config file (a path relative to this file, e.g. `\"../pyproject.toml\"`); "
              "this file's keys apply on top: `select` starts the selection afresh, `ignore`, `extend-select` "
              "and `extend-exclude` add to the inherited lists, other keys replace.",
    "select": "Rules to enable: codes (`KM201`), prefixes (`KM2`), names (`predict-in-loop`) or `ALL`. "
              "Default: every stable rule.",
    "ignore": "Rules to disable (codes, prefixes, names or `ALL`), applied after `select` and `extend-select`.",
    "extend-select": "Rules to enable on top of `select`.",
    "per-file-ignores": "Rules to disable in the files matching a glob (relative to this file's directory), "
                        "e.g. `{ \"tests/*\" = [\"KM203\"] }`.",
    "exclude": "Glob patterns of files and directories to skip; replaces the default list "
               "(`.git`, virtual environments, `build`, `dist`, `__pycache__`, `node_modules`, ...).",
    "extend-exclude": "Glob patterns to skip in addition to `exclude`.",
    "respect-gitignore": "Skip what `.gitignore`, `.git/info/exclude` and git's global excludes file ignore.",
    "preview": "Enable preview rules.",
    "large-tensor-bytes": "KM301: arrays and tensors at least this large are flagged when kept alive through "
                          "training. A size: bytes, or a string such as `\"100MB\"` or `\"1GiB\"`.",
    "cache-bytes": "KM101: an in-memory `Dataset.cache()` of data estimated at least this large is flagged.",
    "shuffle-buffer-bytes": "KM104: a shuffle buffer holding at least this much data is flagged.",
    "from-tensor-slices-bytes": "KM106: `Dataset.from_tensor_slices` on an array at least this large is flagged.",
    "prefetch-batches": "KM105: a `prefetch` buffer of more batches than this is flagged.",
    "tiny-loop-iterations": "KM203: literal loops this short (or shorter) are not flagged.",
    "float64-min-bytes": "KM302: float64 data of known size below this many bytes is not reported "
                         "(a per-batch generator buffer keeps a 1 MB floor).",
    "max-file-size": "Files larger than this are reported (KM901 \"too large to analyse\") instead of "
                     "analysed; `0` means no limit.",
    "cache-dir": "Directory of the result cache, relative to this file's directory (default `.kmlint_cache`).",
    "jobs": "Worker processes; `0` or unset: one per core (never more than the cores or the files).",
    "baseline": "A baseline file (written by `--write-baseline`), relative to this file: only findings "
                "not recorded there are reported.",
    "output-format": "The default `--output-format` (`full`, `text`, `concise`, `json`, `json-lines`, "
                     "`sarif`, `github`, `gitlab`, `junit`).",
}


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    except UnicodeDecodeError as e:  # TOML is UTF-8 only
        raise ConfigError(f"{path}: invalid TOML: not valid UTF-8 ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None


def table_of(path: Path) -> Optional[dict]:
    """The kmlint table of a config file, or None when a pyproject has none."""
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "kmlint" not in tool:
            return None
        table = tool["kmlint"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.kmlint] must be a table")
        return table
    return data


def _extended(settings: Settings, value: Any, path: Path, chain: tuple[Path, ...]) -> Settings:
    """``extend = "../pyproject.toml"``: the settings of that file (a path
    relative to the extending file), on which this file's keys then apply.
    Paths it sets (cache-dir, baseline) stay relative to it; a cycle is an error
    naming the files."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: invalid value for 'extend': expected the path of a config file")
    base = (path.parent / Path(value).expanduser()).resolve()
    here = path.resolve()
    if base in chain or base == here:
        cycle = " -> ".join(str(p) for p in (*chain, here, base))
        raise ConfigError(f"{path}: circular 'extend': {cycle}")
    if not base.is_file():
        raise ConfigError(f"{path}: 'extend' names {base}, which is not a file")
    table = table_of(base)
    if table is None:
        table = {}
    inherited = apply_table(replace(settings, root=base.parent), table, base, _chain=(*chain, here))
    absolute = {}
    for attr in ("cache_dir", "baseline"):
        value = getattr(inherited, attr)
        if value is not None and not Path(value).is_absolute():
            absolute[attr] = str(base.parent / value)
    return replace(inherited, **absolute)


def _layer(parent: Settings, updates: dict) -> dict:
    """A file's keys over the settings it extends: ``select`` starts the rule
    selection afresh (like a command-line --select); ``ignore``,
    ``extend-select`` and ``extend-exclude`` add to the inherited lists."""
    updates = dict(updates)
    if "select" in updates:
        updates.setdefault("ignore", [])
        updates.setdefault("extend_select", [])
    else:
        for attr in ("ignore", "extend_select"):
            if attr in updates:
                updates[attr] = list(getattr(parent, attr)) + updates[attr]
    if "extend_exclude" in updates:
        updates["extend_exclude"] = list(parent.extend_exclude) + updates["extend_exclude"]
    return updates


def apply_table(settings: Settings, table: dict, path: Path, *, _chain: tuple[Path, ...] = ()) -> Settings:
    where = "[tool.kmlint]" if path.name == "pyproject.toml" else "kmlint config"
    extended = EXTEND_KEY in table
    if extended:
        settings = _extended(settings, table[EXTEND_KEY], path, _chain)
    updates = {}
    for key, value in table.items():
        if key == EXTEND_KEY:
            continue
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown key '{key}' in {where}")
        attr, parser = KEYS[key]
        try:
            updates[attr] = parser(value)
        except ValueError as e:
            raise ConfigError(f"{path}: invalid value for '{key}': {e}") from None
        if key in SELECTOR_KEYS:
            for sel in updates[attr]:
                _check_selector(sel, path, key)
        if key == "per-file-ignores":
            for codes in updates[attr].values():
                for sel in codes:
                    _check_selector(sel, path, key)
    if extended:
        updates = _layer(settings, updates)
    return replace(settings, config_path=path, root=path.parent, sources=(*settings.sources, path), **updates)


def _check_selector(sel: str, path: Path, key: str) -> None:
    try:
        expand_selector(sel)
    except SelectorError:
        raise ConfigError(f"{path}: unknown rule code or name '{sel}' in '{key}'") from None


def load_config_file(path: Path) -> Settings:
    path = path.resolve()
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    table = table_of(path)
    if table is None:
        table = {}
    return apply_table(Settings(root=path.parent), table, path)


class ConfigResolver:
    """Finds the nearest config for each file; caches per directory.

    ``explicit`` (``--config``) applies to every file; ``overrides`` holds the
    command-line settings applied on top of whichever file is found."""

    def __init__(self, explicit: Optional[Path] = None, overrides: Optional[dict] = None, witness=None):
        # witness: a run recording its manifest (engine.manifest.Witness) sees each config file looked for
        self.witness = witness
        self.explicit = load_config_file(explicit) if explicit else None
        self.overrides = overrides or {}
        self._by_dir: dict[Path, Settings] = {}
        self._by_given: dict[str, Settings] = {}  # a directory as given (absolute) -> its settings

    def _with_overrides(self, s: Settings) -> Settings:
        ov = dict(self.overrides)
        if "select" in ov:
            # like Ruff: a command-line --select replaces the file's selection
            # entirely (its ignore/extend-select included)
            ov.setdefault("ignore", [])
            ov.setdefault("extend_select", [])
        elif "extend_select" in ov:
            ov["extend_select"] = list(s.extend_select) + ov["extend_select"]
        if "ignore" in ov and "select" not in ov:
            ov["ignore"] = list(s.ignore) + ov["ignore"]
        if "extend_exclude" in ov:
            ov["extend_exclude"] = list(s.extend_exclude) + ov["extend_exclude"]
        return replace(s, **ov) if ov else s

    def for_dir(self, directory: Path) -> Settings:
        given = str(directory) if directory.is_absolute() else os.path.join(os.getcwd(), str(directory))
        known = self._by_given.get(given)
        if known is not None:
            return known
        found = self._for_resolved_dir(directory.resolve())
        self._by_given[given] = found
        return found

    def _for_resolved_dir(self, directory: Path) -> Settings:
        if self.explicit is not None:
            return self._by_dir.setdefault(Path("/"), self._with_overrides(self.explicit))
        if directory in self._by_dir:
            return self._by_dir[directory]
        found: Optional[Settings] = None
        for d in [directory, *directory.parents]:
            if d in self._by_dir:
                found = self._by_dir[d]
                break
            for name in CONFIG_FILES:
                p = d / name
                if p.is_file() if self.witness is None else isinstance(self.witness.probe(p), list):
                    table = table_of(p)
                    if table is not None:
                        found = self._with_overrides(apply_table(Settings(root=d), table, p))
                        break
            if found is not None:
                self._by_dir[d] = found
                break
        if found is None:
            found = self._with_overrides(Settings(root=Path.cwd()))
        self._by_dir[directory] = found
        return found

    def for_file(self, path: Path) -> Settings:
        return self.for_dir(path.parent if path.parent != Path("") else Path("."))

    def config_files(self) -> list[Path]:
        """Every config file the settings handed out so far were read from."""
        return sorted({p for s in self._by_dir.values() for p in s.sources})
