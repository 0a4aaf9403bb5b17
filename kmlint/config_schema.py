"""The JSON schema of ``[tool.kmlint]`` (and of a ``kmlint.toml``'s top level),
generated from the configuration code: the keys and parsers of
``kmlint.config.KEYS``, the ``extend`` key, the defaults of ``Settings`` and
the descriptions of ``KEY_DOCS``.  Rule selectors are the codes, code prefixes
and names of the rule catalog.

The generated file ships in the package as ``kmlint/kmlint.schema.json``
(``python -m kmlint.docs`` rewrites it; tests/test_config_schema.py checks it
is in sync and that it accepts exactly what kmlint accepts) and on the docs
site, so editors with a TOML language server (Taplo / Even Better TOML)
complete and check the keys."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from pathlib import Path

from kmlint import config
from kmlint.config import EXTEND_KEY, KEY_DOCS, KEYS, SELECTOR_KEYS, Settings

SCHEMA_PATH = Path(__file__).with_name("kmlint.schema.json")
SCHEMA_URL = "https://kmlint.github.io/kmlint/kmlint.schema.json"

# a size as parse_size reads it (case-insensitive units, ECMA-262 has no flag for that)
SIZE_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(([KkMmGgTt][Ii]?)?[Bb])?\s*$"


def _ci(text: str) -> str:
    """A case-insensitive regular expression for ``text`` (letters as [xX])."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in text)


def selector_schema() -> dict:
    """A rule selector: ``ALL`` (any case), a code or code prefix (any case,
    only prefixes that match a rule), or a rule name (exact)."""
    from kmlint.registry import catalog

    codes = sorted(catalog())
    prefixes = sorted({c[:n] for c in codes for n in range(3, len(c) + 1)})
    names = sorted(m.name for m in catalog().values())
    alternatives = "|".join(_ci(p) for p in ["ALL", *prefixes])
    return {
        "type": "string",
        "anyOf": [
            {"enum": ["ALL", *codes, *names]},  # what editors offer
            {"pattern": rf"^\s*({alternatives})\s*$"},
            {"pattern": r"^\s*(" + "|".join(names) + r")\s*$"},
        ],
    }


def _type_of(parser, key: str) -> dict:
    if key in SELECTOR_KEYS:
        return {"type": "array", "items": {"$ref": "#/definitions/selector"}}
    if parser is config._str_list:
        return {"type": "array", "items": {"type": "string"}}
    if parser is config._bool:
        return {"type": "boolean"}
    if parser is config._pos_int:
        return {"type": "integer", "minimum": 0}
    if parser is config.parse_size:
        return {"$ref": "#/definitions/size"}
    if parser is config._per_file_ignores:
        return {"type": "object", "additionalProperties": {"type": "array", "items": {"$ref": "#/definitions/selector"}}}
    if parser is config._str:
        if key == "output-format":
            from kmlint.output import FORMATS

            return {"type": "string", "enum": sorted(FORMATS)}
        return {"type": "string"}
    raise ValueError(f"config key {key!r}: no JSON schema type for its parser {parser.__name__}")


def _defaults() -> dict[str, object]:
    out = {}
    for f in fields(Settings):
        if f.default is not MISSING and f.default is not None:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:  # type: ignore[misc]
            value = f.default_factory()  # type: ignore[misc]
            if not isinstance(value, Path):
                out[f.name] = value
    return out


def key_table() -> list[dict]:
    """One row per key, in declaration order: key, schema, default (or None), description."""
    defaults = _defaults()
    rows = [{"key": EXTEND_KEY, "schema": {"type": "string", "minLength": 1}, "default": None,
             "description": KEY_DOCS[EXTEND_KEY]}]
    for key, (attr, parser) in KEYS.items():
        rows.append({"key": key, "schema": _type_of(parser, key), "default": defaults.get(attr),
                     "description": KEY_DOCS[key]})
    return rows


def json_schema() -> dict:
    properties = {}
    for row in key_table():
        prop = dict(row["schema"])
        prop["description"] = row["description"]
        prop["markdownDescription"] = row["description"]
        if row["default"] is not None:
            prop["default"] = row["default"]
        properties[row["key"]] = prop
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_URL,
        "title": "kmlint configuration",
        "description": "[tool.kmlint] in pyproject.toml, or the top level of kmlint.toml / .kmlint.toml. "
                       "Generated from kmlint's configuration code by `python -m kmlint.docs`.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "definitions": {
            "selector": selector_schema(),
            "size": {
                "description": "Bytes: an integer, or a string with KB/MB/GB/TB (powers of 10) "
                               "or KiB/MiB/GiB/TiB (powers of 2), e.g. \"100MB\".",
                "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": SIZE_PATTERN}],
            },
        },
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def update_schema(path: Path = SCHEMA_PATH) -> bool:
    from kmlint.docs import write_if_changed

    return write_if_changed(path, schema_text())
