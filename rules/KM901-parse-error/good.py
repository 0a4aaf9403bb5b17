# -*- coding: utf-8 -*-
"""Valid syntax that looks unusual: none of it is a parse error."""
import asyncio
from contextlib import nullcontext

import numpy as np
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(1)])


def describe(shape, /, *, verbose=False):
    match shape:
        case (n, d) if n > 1000:
            return f"{n} rows of {d}"
        case (n, *_):
            return f"{n} rows"
        case _:
            return "scalar"


if (n := len(model.layers)) > 0:
    print(describe((n, 1)), sep="")

with (
    nullcontext() as first,
    nullcontext() as second,
):
    grid = np.zeros((4, 4), dtype="float32")[..., None]; total = grid.sum()

taux_d_apprentissage = 1e-3  # non-ASCII text in a comment: é, ü, 学习率
big = 1_000_000 \
    + 0x_ff


async def serve(batches):
    async for batch in batches:
        yield [await asyncio.sleep(0, result=b) for b in batch]


decorated = (lambda f: f)
match = case = 1  # soft keywords are valid names
