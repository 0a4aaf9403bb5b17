"""Dotted-name helpers and canonicalisation of TensorFlow/Keras import paths.

``tf.keras.X``, ``tensorflow.keras.X``, ``tensorflow.python.keras.X``,
``tf_keras.X`` and ``keras.X`` all name the same API; rules match on the
canonical ``keras.X`` spelling only.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

_PREFIXES = (
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.compat.v2.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.api._v2.keras.", "keras."),
    ("keras.src.", "keras."),
    ("keras._tf_keras.keras.", "keras."),
)
_WHOLE = {
    "tensorflow.keras": "keras",
    "tensorflow.python.keras": "keras",
    "tf_keras": "keras",
    "keras.src": "keras",
}

# Sub-module aliases that Keras exposes under several paths.
_KERAS_SYNONYMS = (
    ("keras.preprocessing.image.", "keras.preprocessing.image."),
    ("keras.legacy.preprocessing.image.", "keras.preprocessing.image."),
    ("keras.src.legacy.preprocessing.image.", "keras.preprocessing.image."),
    ("keras.models.", "keras."),
    ("keras.engine.training.", "keras."),
    ("keras.engine.sequential.", "keras."),
    ("keras.engine.functional.", "keras."),
    ("keras.saving.", "keras."),  # keras.saving.load_model is keras.models.load_model
)


def canonical(dotted: str) -> str:
    if dotted in _WHOLE:
        return _WHOLE[dotted]
    for old, new in _PREFIXES:
        if dotted.startswith(old):
            dotted = new + dotted[len(old):]
            break
    return dotted


def keras_synonym(dotted: str) -> str:
    """A looser canonical form used for set membership: ``keras.models.Sequential``
    and ``keras.Sequential`` compare equal."""
    for _ in range(3):
        for old, new in _KERAS_SYNONYMS:
            if dotted.startswith(old) and old != new:
                dotted = new + dotted[len(old):]
                break
        else:
            return dotted
    return dotted


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def call_name(node: cst.Call) -> Optional[str]:
    """The last part of the callee: ``fit`` for ``model.fit(...)``."""
    func = node.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def get_arg(call: cst.Call, keyword: str, position: Optional[int] = None) -> Optional[cst.Arg]:
    """The argument passed as ``keyword=`` or at ``position`` (positional only)."""
    for a in call.args:
        if a.keyword is not None and a.keyword.value == keyword:
            return a
    if position is not None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if position < len(positional):
            return positional[position]
    return None


def literal_value(node: Optional[cst.BaseExpression]):
    """Python value of a simple literal (int, float, str, bool, None, tuples/lists
    of those); raises ValueError otherwise."""
    if node is None:
        raise ValueError("no node")
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0) if not node.value.startswith("0") or node.value == "0" or node.value[:2].lower() in ("0x", "0o", "0b") else int(node.value.replace("_", ""))
    if isinstance(node, cst.Float):
        return float(node.value.replace("_", ""))
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        v = node.evaluated_value
        if v is None:
            raise ValueError("f-string")
        return v.decode() if isinstance(v, bytes) else v
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return -literal_value(node.expression)
    if isinstance(node, (cst.Tuple, cst.List)):
        return tuple(literal_value(e.value) for e in node.elements)
    raise ValueError("not a literal")


_EMPTY = cst.Module([])


def source_text(node: cst.CSTNode) -> str:
    """The source code of a node, for messages (``x_train[:i]``)."""
    return _EMPTY.code_for_node(node)
