"""Re-lint latency of ``kmlint server`` after an edit of a ~1,000-line file.

Starts the real server over stdio, opens a generated 1,000-line Keras training
module, then repeatedly inserts a line in the middle (an incremental
``didChange``, as editors send them) and times until the diagnostics for that
version arrive.  Runs twice: with the default debounce (what a user sees) and
with the debounce off (the lint itself plus the round trip), then times the
engine alone (``lint_text`` in-process).  Right after each edit, while the
lint runs, it also times a hover request: the editor is not blocked.

    python benchmarks/lsp_latency.py [--edits 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]

BLOCK = '''

def build_model_{i}(units={i}):
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(units, activation="relu")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="model_{i}")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_dataset_{i}(images, labels, batch_size=64):
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    ds = ds.shuffle(1024).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return ds


def train_{i}(images, labels, epochs=2):
    model = build_model_{i}()
    history = model.fit(make_dataset_{i}(images, labels), epochs=epochs, verbose=0)
    for name, values in history.history.items():
        print(name, values[-1])
    return model
'''

FINDINGS = '''

def legacy_training(model, generator):
    model.fit_generator(generator, steps_per_epoch=100, epochs=5)
    return model.evaluate_generator(generator, steps=10)
'''


def source(lines: int = 1000) -> str:
    text = "import numpy as np\nimport tensorflow as tf\nfrom tensorflow import keras\n" + FINDINGS
    i = 0
    while text.count("\n") + BLOCK.count("\n") <= lines:
        text += BLOCK.format(i=i)
        i += 1
    return text + "\n" * (lines - text.count("\n"))


async def measure(debounce_ms, edits: int, text: str, path: Path) -> tuple[list[float], list[float]]:
    client = LanguageClient("kmlint-benchmark", "1")
    published: dict[int, float] = {}
    diagnostics: dict[int, list] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published[params.version] = time.perf_counter()
        diagnostics[params.version] = list(params.diagnostics)
        arrived.set()

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    await client.start_io(sys.executable, "-m", "kmlint", "server", env=env)
    options = {"debounceMs": debounce_ms} if debounce_ms is not None else None
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=path.parent.as_uri(), initialization_options=options))
    client.initialized(types.InitializedParams())
    uri = path.as_uri()

    async def wait_for(version: int) -> float:
        while version not in published:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 60)
        return published[version]

    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
    await wait_for(1)
    expected = len(diagnostics[1])
    latencies, hovers = [], []
    lines = text.split("\n")
    # a top-level statement in the middle of the file keeps it valid Python
    middle = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith("def "))
    for version in range(2, edits + 2):
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(middle, 0), types.Position(middle, 0)), text=f"edited_{version} = {version}\n")
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        hover_sent = time.perf_counter()
        await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0)))
        hovers.append(time.perf_counter() - hover_sent)
        latencies.append(await wait_for(version) - sent)
        assert len(diagnostics[version]) == expected, "the edit changed the findings: not a like-for-like re-lint"
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies, hovers


def summary(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"median {statistics.median(ms):6.1f} ms   p90 {p90:6.1f} ms   max {ms[-1]:6.1f} ms"


def engine_only(text: str, path: Path, runs: int) -> tuple[list[float], list[float]]:
    """``lint_text`` in this process, as the worker calls it: the part of the
    latency that is the engine's, as wall and CPU time (on a busy machine the
    wall time is the CPU time stretched by the other processes)."""
    sys.path.insert(0, str(ROOT))
    from kmlint.config import Settings
    from kmlint.engine.linter import lint_text

    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        lint_text(text, str(path), Settings(), keep_tree=True)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()
    text = source()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.py"
        print(f"file: {text.count(chr(10))} lines; {args.edits} edits each; Python {sys.version.split()[0]}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        for label, debounce in (("default debounce", None), ("debounce off", 0)):
            latencies, hovers = asyncio.run(measure(debounce, args.edits, text, path))
            print(f"edit -> diagnostics ({label:16}): {summary(latencies)}")
            print(f"hover during lint   ({label:16}): {summary(hovers)}")
        wall, cpu = engine_only(text, path, min(args.edits, 10))
        print(f"lint_text alone, wall time          : {summary(wall)}")
        print(f"lint_text alone, CPU time           : {summary(cpu)}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
