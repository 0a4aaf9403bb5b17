"""KM202: a shuffling directory iterator used for ``predict`` whose labels are
read in another pass (``.classes``, ``.filenames``, a second iteration)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from kmlint.findings import SAFE, UNSAFE, Fix
from kmlint.fixes import replace_node, set_keyword_arg
from kmlint.registry import Rule, register
from kmlint.legacy.semantics.model import DATASET_METHODS
from kmlint.legacy.semantics.names import call_name, get_arg, literal_value

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
        elif not isinstance(node.func, cst.Attribute) or model.function_called(call) is not None:
            return
        if any(a.star == "**" for a in node.args):
            return  # shuffle may come from **kwargs
        shuffle = get_arg(node, "shuffle", SHUFFLE_POSITION[call.name])
        if shuffle is not None:
            try:
                if literal_value(shuffle.value) is not True:
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

        def transform(module: cst.Module) -> cst.Module:
            if shuffle is not None and shuffle.keyword is None:
                new = node.with_changes(args=[a.with_changes(value=cst.Name("False")) if a is shuffle else a for a in node.args])
            else:
                new = set_keyword_arg(node, "shuffle", cst.Name("False"))
            return replace_node(module, node, new)

        if unsafe_reasons:
            fix = Fix(UNSAFE, f"Pass `shuffle=False` ({'; '.join(unsafe_reasons)})", transform)
        else:
            fix = Fix(SAFE, "Pass `shuffle=False`", transform)
        ctx.report(
            node,
            f"`{call.name}` shuffles by default; this iterator goes to `predict` while {label_pass} is read in "
            f"another pass, so predictions and labels come out in different orders; pass `shuffle=False`",
            fix,
        )

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _uses(model, source: cst.Call, methods, keywords=("x",)) -> tuple[list, set[int]]:
        """Calls of ``methods`` whose data argument comes from ``source``, and
        the ids of the calls on the way (``ds.map(f)`` feeding ``predict``)."""
        found, via = [], set()
        for name in methods:
            for cs in model.calls_by_name.get(name, ()):
                for i, a in enumerate(cs.node.args):
                    if (a.keyword is None and i == 0) or (a.keyword is not None and a.keyword.value in keywords):
                        value = a.value
                        if isinstance(value, cst.Tuple) and value.elements:  # validation_data=(it, ...)
                            value = value.elements[0].value
                        path: list[int] = []
                        if _source(model, value, path) is source:
                            found.append(cs)
                            via.update(path)
        return found, via

    @staticmethod
    def _label_pass(model, source: cst.Call, predict_chain: set[int]) -> Optional[str]:
        """How labels/filenames are taken from ``source`` outside ``predict``."""
        for loop in model.loops:
            if loop.kind == "while" or _source(model, _unwrap_iteration(loop.iter), []) is not source:
                continue
            if any(c.name in PREDICT for c in loop.calls):
                continue  # predicts on each yielded batch: labels come from the same batch
            return "a separate loop over it"
        for uses in model.uses.values():
            for use in uses:
                if use.kind != "load" or not use.parents:
                    continue
                parent = use.parents[0]
                grand = use.parents[1] if len(use.parents) > 1 else None
                if isinstance(parent, cst.Attribute) and parent.value is use.node:
                    attr = parent.attr.value
                    if attr not in ORDERED_ATTRIBUTES and attr not in PASS_METHODS:
                        continue
                    if attr in PASS_METHODS and not (isinstance(grand, cst.Call) and id(grand) not in predict_chain):
                        continue
                elif isinstance(parent, cst.Subscript) and parent.value is use.node:
                    attr = "[]"
                elif isinstance(parent, cst.Arg) and isinstance(grand, cst.Call) and call_name(grand) == "next":
                    attr = "next"
                else:
                    continue
                if _source(model, use.node, []) is source:
                    return {"[]": "a batch indexed from it", "next": "a batch taken with `next()`"}.get(
                        attr, f"`.{attr}`" if attr in ORDERED_ATTRIBUTES else f"a separate `.{attr}()` pass")
        return None


def _unwrap_iteration(expr):
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ITERATION_WRAPPERS and expr.args:
        expr = expr.args[0].value
    return expr


def _source(model, expr, path: list[int], depth: int = 0) -> Optional[cst.Call]:
    """The iterator-creating call an expression comes from, following names
    and tf.data methods; ``path`` collects the ids of the calls passed."""
    while expr is not None and depth < 30:
        depth += 1
        if isinstance(expr, cst.Name):
            b = model.binding_of(expr)
            if b is None or b.kind not in ("assign", "annassign") or b.value is None or b.path:
                return None
            expr = b.value
        elif isinstance(expr, cst.Call):
            name = call_name(expr)
            if name in SHUFFLE_POSITION:
                return expr
            if not isinstance(expr.func, cst.Attribute) or name not in DATASET_METHODS:
                return None
            path.append(id(expr))
            expr = expr.func.value
        else:
            return None
    return None
