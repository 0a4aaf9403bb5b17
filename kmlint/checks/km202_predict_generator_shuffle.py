"""KM202: a shuffling directory iterator used for ``predict`` whose labels are
read in another pass (``.classes``, ``.filenames``, a second iteration)."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint import edits
from kmlint.semantics.names import is_argument_of
from kmlint.semantics.blocks import call_parent
from kmlint.findings import SAFE, UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.model import DATASET_METHODS
from kmlint.semantics.names import call_name, get_arg, literal_value

# source -> position of ``shuffle`` when passed positionally
SHUFFLE_POSITION = {"flow_from_directory": 6, "flow_from_dataframe": 10, "image_dataset_from_directory": 7}
# attributes whose order follows the files on disk, not the shuffled batches
ORDERED_ATTRIBUTES = {"classes", "filenames", "filepaths", "labels", "file_paths"}
# calls that start a separate pass over the iterator
PASS_METHODS = {"next", "__next__", "as_numpy_iterator"}
ITERATION_WRAPPERS = {"enumerate", "iter", "list", "tqdm", "zip", "trange"}
PREDICT = {"predict", "predict_generator"}
TRAIN = {"fit", "fit_generator"}


@register
class PredictGeneratorShuffle(Rule):
    code = "KM202"
    name = "predict-generator-shuffle"
    summary = "A shuffling directory iterator is used for `predict` while its labels/filenames come from another pass"
    fixable = "sometimes"
    tokens = tuple(SHUFFLE_POSITION)
    calls = frozenset(SHUFFLE_POSITION)

    def check_call(self, call, ctx) -> None:
        model = ctx.model
        node = call.node
        if call.name == "image_dataset_from_directory":
            q = model.qualname(node.func)
            if q is None or not (q == call.name or q.startswith("keras.")):
                return
        elif not isinstance(node.func, ast.Attribute) or model.function_called(call) is not None:
            return
        if any(k.arg is None for k in node.keywords):
            return  # shuffle may come from **kwargs
        shuffle = get_arg(node, "shuffle", SHUFFLE_POSITION[call.name])
        if shuffle is not None:
            try:
                if literal_value(shuffle) is not True:
                    return
            except ValueError:
                return  # decided at run time: cannot tell

        predict_calls, predict_chain = self._uses(model, node, PREDICT)
        if not predict_calls:
            return  # training, validation or evaluate only: order does not matter
        label_pass = self._label_pass(model, node, predict_chain)
        if label_pass is None:
            return
        trained_on, _ = self._uses(model, node, TRAIN, keywords=("x", "validation_data"))
        unsafe_reasons = []
        if trained_on:
            unsafe_reasons.append("it is also used for training/validation")
        if call.name == "image_dataset_from_directory" and get_arg(node, "validation_split") is not None:
            unsafe_reasons.append("with `validation_split` the subset membership depends on the shuffle")

        if shuffle is not None and not any(k.value is shuffle for k in node.keywords):
            change = edits.replace(model, shuffle, "False")  # passed positionally
        else:
            change = edits.set_keyword(model, node, "shuffle", "False")
        if unsafe_reasons:
            fix = Fix(UNSAFE, f"Pass `shuffle=False` ({'; '.join(unsafe_reasons)})", edits=edits.flatten([change]))
        else:
            fix = Fix(SAFE, "Pass `shuffle=False`", edits=edits.flatten([change]))
        ctx.report(
            node,
            f"`{call.name}` shuffles by default; this iterator goes to `predict` while {label_pass} is read in "
            f"another pass, so predictions and labels come out in different orders; pass `shuffle=False`",
            fix,
        )

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _uses(model, source: ast.Call, methods, keywords=("x",)) -> tuple[list, set[int]]:
        """Calls of ``methods`` whose data argument comes from ``source``, and
        the ids of the calls on the way (``ds.map(f)`` feeding ``predict``)."""
        found, via = [], set()
        for name in methods:
            for cs in model.calls_by_name.get(name, ()):
                values = []
                if cs.node.args:
                    first = cs.node.args[0]
                    values.append(first.value if isinstance(first, ast.Starred) else first)
                values += [k.value for k in cs.node.keywords if k.arg in keywords]
                for value in values:
                    if isinstance(value, ast.Tuple) and value.elts:  # validation_data=(it, ...)
                        value = value.elts[0]
                    path: list[int] = []
                    if _source(model, value, path) is source:
                        found.append(cs)
                        via.update(path)
        return found, via

    @staticmethod
    def _label_pass(model, source: ast.Call, predict_chain: set[int]) -> Optional[str]:
        """How labels/filenames are taken from ``source`` outside ``predict``."""
        for loop in model.loops:
            if loop.kind == "while" or _source(model, _unwrap_iteration(loop.iter), []) is not source:
                continue
            if any(c.name in PREDICT for c in loop.calls):
                continue  # predicts on each yielded batch: labels come from the same batch
            return "a separate loop over it"
        for uses in model.uses.values():
            for use in uses:
                if use.kind != "load":
                    continue
                parent = model.parent(use.node)
                if parent is None:
                    continue
                if isinstance(parent, ast.Attribute) and parent.value is use.node:
                    attr = parent.attr
                    if attr not in ORDERED_ATTRIBUTES and attr not in PASS_METHODS:
                        continue
                    grand = model.parent(parent)
                    if attr in PASS_METHODS and not (isinstance(grand, ast.Call) and id(grand) not in predict_chain):
                        continue
                elif isinstance(parent, ast.Subscript) and parent.value is use.node:
                    attr = "[]"
                else:
                    holder = call_parent(model, use.node)
                    if is_argument_of(use.node, holder) and call_name(holder) == "next":
                        attr = "next"
                    else:
                        continue
                if _source(model, use.node, []) is source:
                    return {"[]": "a batch indexed from it", "next": "a batch taken with `next()`"}.get(
                        attr, f"`.{attr}`" if attr in ORDERED_ATTRIBUTES else f"a separate `.{attr}()` pass")
        return None


def _unwrap_iteration(expr):
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in ITERATION_WRAPPERS and expr.args:
        first = expr.args[0]
        expr = first.value if isinstance(first, ast.Starred) else first
    return expr


def _source(model, expr, path: list[int], depth: int = 0) -> Optional[ast.Call]:
    """The iterator-creating call an expression comes from, following names
    and tf.data methods; ``path`` collects the ids of the calls passed."""
    while expr is not None and depth < 30:
        depth += 1
        if isinstance(expr, ast.Name):
            b = model.binding_of(expr)
            if b is None or b.kind not in ("assign", "annassign") or b.value is None or b.path:
                return None
            expr = b.value
        elif isinstance(expr, ast.Call):
            name = call_name(expr)
            if name in SHUFFLE_POSITION:
                return expr
            if not isinstance(expr.func, ast.Attribute) or name not in DATASET_METHODS:
                return None
            path.append(id(expr))
            expr = expr.func.value
        else:
            return None
    return None
