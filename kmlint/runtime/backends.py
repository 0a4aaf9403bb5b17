"""The Keras backend runtime mode runs code under: the project's own.

``--backend`` first, then ``KERAS_BACKEND``, then the ``backend`` of Keras'
config file (``$KERAS_HOME/keras.json``, else ``~/.keras/keras.json``),
else TensorFlow, as Keras itself decides.  Each child gets it as
``KERAS_BACKEND``.  Scenarios that use TensorFlow's own APIs (``tf.data``,
``tf.function``, sessions) declare ``BACKENDS = ("tensorflow",)`` (the
default) and run under TensorFlow whatever the project uses; the report says
so.  Allocator statistics per backend are read by ``probe.Recorder``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Optional

BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT = "tensorflow"


def keras_config(environ: Mapping[str, str]) -> Path:
    home = environ.get("KERAS_HOME")
    if home:
        return Path(home) / "keras.json"
    return Path(environ.get("HOME") or Path.home()) / ".keras" / "keras.json"


def project_backend(explicit: str = "", environ: Optional[Mapping[str, str]] = None) -> tuple[str, str]:
    """(backend, where it came from)."""
    environ = os.environ if environ is None else environ
    if explicit:
        return explicit, "--backend"
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"], "KERAS_BACKEND"
    path = keras_config(environ)
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        value = None
    if isinstance(value, str) and value:
        return value, str(path)
    return DEFAULT, "default"


def scenario_backends(scenario: Optional[Path]) -> tuple[str, ...]:
    """The backends a scenario runs on (its ``BACKENDS``), read without importing it."""
    if scenario is None:
        return (DEFAULT,)
    import ast

    try:
        tree = ast.parse(scenario.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return (DEFAULT,)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "BACKENDS" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                break
            return tuple(value)
    return (DEFAULT,)


def installed(backend: str) -> bool:
    import importlib.util

    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend, backend)
    return importlib.util.find_spec(module) is not None
