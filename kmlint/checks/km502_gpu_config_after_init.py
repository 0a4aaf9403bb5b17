"""KM502: GPU configuration after the TensorFlow runtime was initialised."""

from __future__ import annotations

from kmlint.registry import Rule, register
from kmlint.semantics.devices import device_config_calls, import_time_init, initialises_runtime


@register
class GpuConfigAfterInit(Rule):
    code = "KM502"
    name = "gpu-config-after-init"
    summary = "GPU configuration after a tensor, model or dataset was created raises `RuntimeError`"
    tokens = ("set_memory_growth", "set_visible_devices", "set_logical_device_configuration",
              "set_virtual_device_configuration")

    def check_module(self, model, ctx) -> None:
        configs = device_config_calls(model)
        if not configs:
            return
        inits = []
        for cs in model.calls:
            what = initialises_runtime(model, cs)
            if what is None:
                continue
            when = model.module_entry(cs)
            if when is not None:
                inits.append((when, what, "earlier in this script"))
        # a project module imported earlier that creates one at import time (RULES.md, 2026-12-04)
        for position, what, module, _stmt in import_time_init(model, ctx.path):
            # the import is named by its module, not its line: a message must not
            # change when lines above it move (baselines, caches, editors)
            inits.append(((position,), what, f"when project module `{module}` was imported above"))
        if not inits:
            return
        first_when, what, where = min(inits, key=lambda t: t[0])
        for cfg in configs:
            when = model.module_entry(cfg)
            if when is None or not first_when < when:
                continue
            ctx.report(cfg.node, f"`{cfg.name}` runs after {what} was created {where}: the runtime is "
                       "already initialised and TensorFlow raises `RuntimeError` (often swallowed by a try/except, "
                       "so the setting silently does nothing); configure GPUs first, right after the imports")
