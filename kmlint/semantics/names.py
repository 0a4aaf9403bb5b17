"""Dotted-name helpers and canonicalisation of TensorFlow/Keras import paths
(CPython ``ast`` nodes).

``tf.keras.X``, ``tensorflow.keras.X``, ``tensorflow.python.keras.X``,
``tf_keras.X`` and ``keras.X`` all name the same API; rules match on the
canonical ``keras.X`` spelling only.
"""

from __future__ import annotations

import ast
from typing import Optional

_PREFIXES = (
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.compat.v2.keras.", "keras."),
    ("tensorflow.compat.v1.keras.", "keras."),  # the same tf.keras in TF 2 (import tensorflow.compat.v1 as tf)
    ("tensorflow.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.api._v2.keras.", "keras."),
    ("keras.src.", "keras."),
    ("keras._tf_keras.keras.", "keras."),
)
_WHOLE = {
    "tensorflow.keras": "keras",
    "tensorflow.python.keras": "keras",
    "tensorflow.compat.v1.keras": "keras",
    "tensorflow.compat.v2.keras": "keras",
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


def dotted_name(node: Optional[ast.AST]) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)  # type: ignore[union-attr]
        node = node.value  # type: ignore[union-attr]
    if type(node) is ast.Name:
        parts.append(node.id)  # type: ignore[union-attr]
        return ".".join(reversed(parts))
    return None


def call_name(node: ast.Call) -> Optional[str]:
    """The last part of the callee: ``fit`` for ``model.fit(...)``."""
    func = node.func
    if type(func) is ast.Attribute:
        return func.attr
    if type(func) is ast.Name:
        return func.id
    return None


def get_arg(call: ast.Call, keyword: str, position: Optional[int] = None) -> Optional[ast.expr]:
    """The value expression passed as ``keyword=`` or at ``position``.

    No guessing through stars: a position at or after a ``*args`` is unknown
    (None), and ``**kw`` never supplies a keyword."""
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    if position is not None and 0 <= position < len(call.args):
        for a in call.args[: position + 1]:
            if type(a) is ast.Starred:
                return None
        return call.args[position]
    return None


def keyword_names(call: ast.Call) -> list[str]:
    """The keywords passed by name (``**kw`` excluded), in source order."""
    return [k.arg for k in call.keywords if k.arg is not None]


def has_star(call: ast.Call) -> bool:
    """Whether a call passes ``*args`` or ``**kwargs``."""
    return any(type(a) is ast.Starred for a in call.args) or any(k.arg is None for k in call.keywords)


def argument_values(call: ast.Call) -> list[ast.expr]:
    """Every argument's value expression in source order (``*a``/``**kw`` give
    ``a``/``kw``), like libcst's ``[a.value for a in call.args]``."""
    args, keywords = call.args, call.keywords
    out = [a.value if type(a) is ast.Starred else a for a in args]
    if keywords:
        kv = [k.value for k in keywords]
        if args and _pos(keywords[0]) < _pos(args[-1]):  # f(a, k=1, *b): interleave
            pairs = [(_pos(a), i, v) for i, (a, v) in enumerate(zip(args, out))]
            pairs += [(_pos(k), len(args) + i, v) for i, (k, v) in enumerate(zip(keywords, kv))]
            pairs.sort(key=lambda p: (p[0], p[1]))
            return [p[2] for p in pairs]
        out.extend(kv)
    return out


def _pos(node: ast.AST) -> tuple[int, int]:
    return (node.lineno, node.col_offset)  # type: ignore[attr-defined]


def literal_value(node: Optional[ast.AST]):
    """Python value of a simple literal (int, float, str, bool, None, tuples/lists
    of those); raises ValueError otherwise (also for f-strings, bytes that are not
    UTF-8, complex numbers and ``...``)."""
    if node is None:
        raise ValueError("no node")
    t = type(node)
    if t is ast.Constant:
        v = node.value  # type: ignore[attr-defined]
        if isinstance(v, bytes):
            return v.decode()  # UnicodeDecodeError is a ValueError
        if isinstance(v, complex) or v is Ellipsis:
            raise ValueError("not a simple literal")
        return v
    if t is ast.UnaryOp and type(node.op) is ast.USub:  # type: ignore[attr-defined]
        return -literal_value(node.operand)  # type: ignore[attr-defined]
    if t is ast.Tuple or t is ast.List:
        return tuple(literal_value(e) for e in node.elts)  # type: ignore[attr-defined]
    raise ValueError("not a literal")


def string_value(node: Optional[ast.AST]) -> Optional[str]:
    """The value of a plain string literal (bytes decoded), else None."""
    if type(node) is ast.Constant:
        v = node.value  # type: ignore[union-attr]
        if isinstance(v, str):
            return v
        if isinstance(v, bytes):
            try:
                return v.decode()
            except UnicodeDecodeError:
                return None
    return None


def attribute_name_node(func: ast.Attribute) -> ast.Name:
    """A located stand-in for the attribute name of ``a.b`` (``ast`` has no
    node for it): the name always ends the Attribute node."""
    name = ast.Name(id=func.attr, ctx=ast.Load())
    name.lineno = name.end_lineno = func.end_lineno
    name.end_col_offset = func.end_col_offset
    name.col_offset = func.end_col_offset - len(func.attr.encode("utf-8"))
    return name


def is_argument_of(node: ast.AST, call: ast.AST) -> bool:
    """Whether ``node`` is passed to ``call`` (positionally, by keyword or starred)."""
    if not isinstance(call, ast.Call):
        return False
    return any(a is node or (isinstance(a, ast.Starred) and a.value is node) for a in call.args) \
        or any(k.value is node for k in call.keywords)


def is_string(node: Optional[ast.AST]) -> bool:
    """A string or bytes literal (implicit concatenation included)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
