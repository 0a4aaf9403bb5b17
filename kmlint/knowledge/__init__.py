"""Knowledge of library APIs and public data sets, kept as data (issue 16).

The tables are JSON files next to this module; every entry cites its source
(``"source"``: the documentation or catalog page the figures come from):

* ``keras_datasets.json`` -- arrays returned by ``keras.datasets.<name>.load_data()``;
* ``tfds.json`` -- tensorflow_datasets: examples per split, feature shapes and
  dtypes, download size and an approximate decoded size;
* ``numpy_dtypes.json`` -- default dtypes of NumPy/TensorFlow constructors and
  the dtypes that common arithmetic produces (``uint8 / 255`` -> float64);
* ``api_shapes.json`` -- defaults and output shapes of data-loading and
  preprocessing APIs (``image_dataset_from_directory``, ``TextVectorization``...).

This module only reads the tables: no libcst, no TensorFlow, no NumPy.  The
engine's abstract-value layer asks it; rules never hard-code these facts.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional

TABLES = ("keras_datasets", "tfds", "numpy_dtypes", "api_shapes")
_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def load(table: str) -> dict[str, Any]:
    """The parsed JSON of one table (cached; treat it as read-only)."""
    if table not in TABLES:
        raise KeyError(f"unknown knowledge table {table!r}; known: {', '.join(TABLES)}")
    with open(_DIR / f"{table}.json", encoding="utf-8") as fh:
        return json.load(fh)


def entries(table: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(key, entry)`` for every entry of a table that carries facts (each has a ``source``)."""
    data = load(table)
    if table == "keras_datasets":
        yield from data["datasets"].items()
    elif table == "tfds":
        yield from data["datasets"].items()
    elif table == "numpy_dtypes":
        yield "itemsize", data["itemsize"]
        yield from data["constructors"].items()
        for rule in data["promotion"]:
            yield rule["expr"] + " [" + rule["operand"] + "]", rule
    elif table == "api_shapes":
        yield from data["apis"].items()


# ----------------------------------------------------------------------------- dtypes


def itemsize(dtype: str) -> Optional[int]:
    """Bytes per element of a NumPy/TensorFlow dtype name (``"float32"`` -> 4)."""
    aliases = {"half": "float16", "single": "float32", "double": "float64", "float": "float64", "int": "int64"}
    return load("numpy_dtypes")["itemsize"]["values"].get(aliases.get(dtype, dtype))


def default_dtype(constructor: str) -> Optional[str]:
    """Default dtype of a constructor by qualified name (``"numpy.zeros"`` -> ``"float64"``);
    ``"fill_value"``, ``"like"`` or ``"array"`` when it follows an argument; None when unknown."""
    entry = load("numpy_dtypes")["constructors"].get(constructor)
    return entry["default_dtype"] if entry else None


def float64_constructors() -> frozenset[str]:
    """Constructors whose default result is float64 (KM302 sources)."""
    return frozenset(k for k, v in load("numpy_dtypes")["constructors"].items() if v["default_dtype"] == "float64")


# ----------------------------------------------------------------------------- keras.datasets


def keras_dataset(name: str) -> Optional[dict[str, Any]]:
    """Entry for ``keras.datasets.<name>`` (keys x_train, y_train, x_test, y_test: shape + dtype)."""
    return load("keras_datasets")["datasets"].get(name)


def array_bytes(spec: dict[str, Any]) -> Optional[int]:
    """Bytes of an array described by ``{"shape": [...], "dtype": ...}``; None when a
    dimension or the item size is unknown (ragged, object, strings)."""
    shape, size = spec.get("shape"), itemsize(spec.get("dtype", ""))
    if shape is None or size is None or any(d is None for d in shape):
        return None
    return math.prod(shape) * size


# ----------------------------------------------------------------------------- tensorflow_datasets


def tfds_dataset(name: str) -> Optional[dict[str, Any]]:
    """Entry for a ``tfds.load`` name: ``"cifar10"``, ``"cifar10:3.0.2"``, ``"glue/sst2"``,
    ``"coco/2017"`` (falls back to the base name when the config is not listed)."""
    table = load("tfds")["datasets"]
    base = name.split(":", 1)[0].strip()
    if base in table:
        return table[base]
    return table.get(base.split("/", 1)[0])


def tfds_split_examples(name: str, split: str) -> Optional[int]:
    """Examples in ``split`` of a known data set: ``"train"``, ``"train[:80%]"``,
    ``"train[5000:]"``, ``"train+test"``; None when unknown."""
    entry = tfds_dataset(name)
    if entry is None:
        return None
    return split_total(entry["splits"], split)


def split_total(splits: dict[str, int], split: str) -> Optional[int]:
    """Examples selected by a TFDS split string (``"train[:80%]+test"``) from
    per-split counts; None when a part is unknown or unreadable."""
    total = 0
    for part in split.split("+"):
        base, _, sl = part.strip().partition("[")
        count = splits.get(base.strip())
        if count is None:
            return None
        if sl:
            count = _slice_count(count, sl.rstrip("]"))
            if count is None:
                return None
        total += count
    return total


def _slice_count(count: int, sl: str) -> Optional[int]:
    start_text, sep, stop_text = sl.partition(":")
    if not sep:
        return None

    def bound(text: str, default: int) -> Optional[int]:
        text = text.strip()
        if not text:
            return default
        try:
            value = count * int(text[:-1]) // 100 if text.endswith("%") else int(text)
        except ValueError:
            return None
        return value if value >= 0 else count + value

    start, stop = bound(start_text, 0), bound(stop_text, count)
    if start is None or stop is None:
        return None
    return max(0, min(stop, count) - max(start, 0))


def tfds_example_bytes(name: str) -> Optional[int]:
    """Average decoded size in bytes of one example (all splits), None when unknown."""
    entry = tfds_dataset(name)
    if entry is None or "decoded_bytes_approx" not in entry:
        return None
    return entry["decoded_bytes_approx"] // sum(entry["splits"].values())


# ----------------------------------------------------------------------------- API shapes


def api(name: str) -> Optional[dict[str, Any]]:
    """Defaults / output description of an API by qualified name
    (``"keras.utils.image_dataset_from_directory"``)."""
    return load("api_shapes")["apis"].get(name)


def api_default(name: str, parameter: str) -> Any:
    """A documented default argument value (KeyError when not in the table)."""
    entry = api(name)
    if entry is None or parameter not in entry.get("defaults", {}):
        raise KeyError(f"{name}({parameter}=...) is not in api_shapes.json")
    return entry["defaults"][parameter]
