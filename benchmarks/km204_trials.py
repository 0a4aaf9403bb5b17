"""KM204: what removes the growth of a loop that builds AND trains a Keras model
per trial (issue 12).  Each variant runs in its own process; the numbers are in
rules/KM204-model-in-loop-no-clear-session/README.md.

usage: python benchmarks/km204_trials.py VARIANT N
variants: bad, clear, clear_gc, clear_trim, clear_end, eager, reuse, reuse_ds, spawn, pool

Prints the least-squares growth per trial of RssAnon and of malloc's in-use
bytes (mallinfo2, glibc), after a warm-up of 1/5 of the trials, and of the
last half alone (does it level off?)."""
import ctypes, gc, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
variant, N = sys.argv[1], int(sys.argv[2])

libc = ctypes.CDLL("libc.so.6")
class MI2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena","ordblks","smblks","hblks","hblkhd","usmblks","fsmblks","uordblks","fordblks","keepcost")]
libc.mallinfo2.restype = MI2

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon"):
            return int(line.split()[1]) * 1024

def inuse():
    m = libc.mallinfo2(); return m.uordblks + m.hblkhd

import numpy as np
import tensorflow as tf
import keras

x = np.random.default_rng(0).random((600, 20), dtype=np.float32)
y = (x.sum(1) > 10).astype("float32")

def build(units=32):
    m = keras.Sequential([keras.Input((20,)), keras.layers.Dense(units, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy")
    return m

def trial(units=32):
    m = build(units)
    m.fit(x, y, epochs=2, verbose=0)
    return float(m.evaluate(x, y, verbose=0))

def _child_trial(units):
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return trial(units)

samples = []
def sample():
    samples.append((rss(), inuse()))

def run():
    if variant == "bad":
        for _ in range(N):
            trial(); sample()
    elif variant == "clear":
        for _ in range(N):
            keras.backend.clear_session(); trial(); sample()
    elif variant == "clear_gc":
        for _ in range(N):
            keras.backend.clear_session(); trial(); gc.collect(); sample()
    elif variant == "clear_trim":
        for _ in range(N):
            keras.backend.clear_session(); trial(); gc.collect(); libc.malloc_trim(0); sample()
    elif variant == "clear_end":
        for _ in range(N):
            trial(); keras.backend.clear_session(); gc.collect(); sample()
    elif variant == "eager":
        for _ in range(N):
            keras.backend.clear_session()
            m = keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
            m.compile(optimizer="adam", loss="binary_crossentropy", run_eagerly=True)
            m.fit(x, y, epochs=2, verbose=0); m.evaluate(x, y, verbose=0); sample()
    elif variant == "reuse":
        m = build(); m.fit(x[:64], y[:64], epochs=1, verbose=0); init = m.get_weights()
        for _ in range(N):
            m.set_weights(init)
            for v in m.optimizer.variables:
                v.assign(keras.ops.zeros(v.shape, v.dtype))
            m.fit(x, y, epochs=2, verbose=0); m.evaluate(x, y, verbose=0); sample()
    elif variant == "reuse_ds":
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
        m = build(); m.fit(ds.take(1), epochs=1, verbose=0); init = m.get_weights()
        for _ in range(N):
            m.set_weights(init)
            for v in m.optimizer.variables:
                v.assign(keras.ops.zeros(v.shape, v.dtype))
            m.fit(ds, epochs=2, verbose=0); m.evaluate(ds, verbose=0); sample()
    elif variant == "spawn":
        import concurrent.futures as cf, multiprocessing as mp
        for _ in range(N):
            with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
                pool.submit(_child_trial, 32).result()
            sample()
    elif variant == "pool":
        import concurrent.futures as cf, multiprocessing as mp
        with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), max_tasks_per_child=1) as pool:
            futs = []
            for _ in range(N):
                pool.submit(_child_trial, 32).result(); sample()
    else:
        raise SystemExit("unknown variant")

def slope(vals):
    n = len(vals); mx = (n - 1) / 2; my = sum(vals) / n
    return sum((i - mx) * (v - my) for i, v in enumerate(vals)) / sum((i - mx) ** 2 for i in range(n))

if __name__ == "__main__":
    t = time.time(); run(); t = time.time() - t
    steady = samples[max(1, N // 5):]
    r = [s[0] for s in steady]; u = [s[1] for s in steady]
    # also the last half only: does the growth level off?
    half = samples[N // 2:]
    print(f"{variant:11s} N={N} rss {slope(r)/1024:8.1f} KiB/trial  malloc {slope(u)/1024:8.1f} KiB/trial  "
          f"last-half rss {slope([s[0] for s in half])/1024:8.1f}  total rss {(samples[-1][0]-samples[0][0])/2**20:6.1f} MiB  {t:5.0f}s", flush=True)
