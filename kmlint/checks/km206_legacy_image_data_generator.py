"""KM206: ImageDataGenerator."""

from __future__ import annotations

from kmlint.registry import Rule, register

QUALNAMES = ("keras.preprocessing.image.ImageDataGenerator",)


@register
class LegacyImageDataGenerator(Rule):
    code = "KM206"
    name = "legacy-image-data-generator"
    summary = "`ImageDataGenerator` is deprecated and gone in Keras 3; it loads single-threaded and yields float64"
    tokens = ("ImageDataGenerator",)
    calls = frozenset({"ImageDataGenerator"})

    def check_call(self, call, ctx) -> None:
        q = ctx.model.qualname(call.node.func)
        if q is None:
            return  # a local class or variable of that name
        if q != "ImageDataGenerator" and not q.endswith("preprocessing.image.ImageDataGenerator"):
            return
        ctx.report(call.node, "`ImageDataGenerator` is deprecated (not in Keras 3): single-threaded PIL loading and float64 "
                   "batches; use `keras.utils.image_dataset_from_directory` with preprocessing layers")
