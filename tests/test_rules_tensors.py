"""KM303 (tensors accumulated across steps), KM304 (np.load without mmap) and
KM305 (concatenation in loops) on realistic code."""

from __future__ import annotations

import textwrap

from tests.fixing import apply_fixes
from tests.helpers import codes, lint


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


GAN = src("""
    import tensorflow as tf

    generator = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(64)])
    discriminator = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(1)])
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt = tf.keras.optimizers.Adam(1e-4)
    d_opt = tf.keras.optimizers.Adam(1e-4)
    real_ds = tf.data.Dataset.from_tensor_slices(tf.zeros((256, 64))).batch(32)


    def d_loss_fn(real, fake):
        return bce(tf.ones_like(real), real) + bce(tf.zeros_like(fake), fake)


    @tf.function
    def step(real):
        noise = tf.random.normal((32, 16))
        with tf.GradientTape() as gt, tf.GradientTape() as dt:
            fake = generator(noise, training=True)
            d_loss = d_loss_fn(discriminator(real), discriminator(fake))
            g_loss = bce(tf.ones_like(fake[:, :1]), discriminator(fake))
        g_opt.apply_gradients(zip(gt.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
        d_opt.apply_gradients(zip(dt.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
        return g_loss, d_loss


    g_hist, d_hist, samples = [], [], []
    for epoch in range(50):
        for real in real_ds:
            g_loss, d_loss = step(real)
            g_hist.append(g_loss)
            d_hist.append(d_loss.numpy())
        samples.append(generator(tf.random.normal((4, 16))))
""")


def test_gan_loop_tensors_are_flagged_numpy_values_are_not():
    found = lint(GAN, select=["KM303"])
    assert [(f.line, f.code) for f in found] == [(31, "KM303"), (33, "KM303")]
    assert "`step`" in found[0].message and "`g_hist`" in found[0].message
    assert "outputs of `generator(...)`" in found[1].message
    # an element of a tf.function's tuple result is not known to be scalar: no float() fix
    assert found[0].fix is None and found[1].fix is None


def test_scalar_loss_gets_the_float_fix():
    text = src("""
        import tensorflow as tf

        model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
        opt = tf.keras.optimizers.SGD()
        ds = tf.data.Dataset.from_tensor_slices((tf.zeros((64, 4)), tf.zeros((64, 1)))).batch(8)
        losses = []
        for epoch in range(10):
            for x, y in ds:
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(model(x) - y))
                opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
                losses.append(loss)
    """)
    assert codes(text, select=["KM303"]) == [(12, "KM303")]
    assert "losses.append(float(loss))" in apply_fixes(text, "KM303")


def test_gradients_accumulated_across_steps_are_flagged():
    text = src("""
        import tensorflow as tf

        model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
        ds = tf.data.Dataset.from_tensor_slices(tf.zeros((64, 4))).batch(8)
        grad_log = []
        for x in ds:
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(model(x))
            grads = tape.gradient(loss, model.trainable_variables)
            grad_log.append(grads)
    """)
    found = lint(text, select=["KM303"])
    assert [(f.line, f.code) for f in found] == [(10, "KM303")]
    assert "tape.gradient" in found[0].message


def test_lists_outside_training_loops_are_not_flagged():
    text = src("""
        import tensorflow as tf

        shapes = []
        for i in range(10):
            shapes.append(tf.zeros((i, 2)))   # building inputs, not training
        names = []
        for layer in range(3):
            names.append(str(layer))
    """)
    assert codes(text, select=["KM303"]) == []


# ------------------------------------------------------------------ KM304

def test_np_load_batched_in_a_generator_is_flagged_and_fixed():
    text = src("""
        import numpy as np
        import tensorflow as tf

        images = np.load("train_images.npy")
        labels = np.load("train_labels.npy")

        def batches(batch_size=64):
            for i in range(0, len(images), batch_size):
                yield images[i:i + batch_size], labels[i:i + batch_size]

        ds = tf.data.Dataset.from_generator(batches, output_signature=(
            tf.TensorSpec((None, 224, 224, 3), tf.uint8), tf.TensorSpec((None,), tf.int64)))
    """)
    assert codes(text, select=["KM304"]) == [(4, "KM304"), (5, "KM304")]
    fixed = apply_fixes(text, "KM304")
    assert 'np.load("train_images.npy", mmap_mode="r")' in fixed
    assert 'np.load("train_labels.npy", mmap_mode="r")' in fixed


def test_np_load_used_whole_is_not_flagged():
    text = src("""
        import numpy as np

        x = np.load("x.npy")
        mean = x.mean(axis=0)
        for i in range(0, len(x), 32):
            batch = x[i:i + 32] - mean
    """)
    assert codes(text, select=["KM304"]) == []


# ------------------------------------------------------------------ KM305

def test_embedding_extraction_growing_an_array_is_flagged_once_per_growth():
    text = src("""
        import numpy as np
        import tensorflow as tf

        encoder = tf.keras.applications.MobileNetV2(include_top=False, pooling="avg", weights=None)
        ds = tf.data.Dataset.from_tensor_slices(tf.zeros((64, 96, 96, 3))).batch(16)
        feats = None
        for batch in ds:
            out = encoder(batch, training=False).numpy()
            feats = out if feats is None else np.vstack([feats, out])
        print(feats.shape)
    """)
    found = lint(text, select=["KM305"])
    assert [(f.line, f.code) for f in found] == [(9, "KM305")]
    assert "`feats`" in found[0].message and "np.vstack" in found[0].message


def test_list_then_concatenate_once_is_clean():
    text = src("""
        import numpy as np

        chunks = []
        for i in range(100):
            chunks.append(np.random.rand(10, 3))
        data = np.concatenate(chunks)
    """)
    assert codes(text, select=["KM305"]) == []


def test_one_finding_per_array_and_loop():
    text = src("""
        import tensorflow as tf

        def timeline(ds, epochs=2):
            names = tf.zeros([0, 1], dtype=tf.string)
            for epoch in range(epochs):
                for step_names in ds:
                    names = tf.concat((names, step_names), axis=0)
                    names = tf.concat((names, [["train"]]), axis=0)
                names = tf.concat((names, [["epoch"]]), axis=0)
            return names
    """)
    assert codes(text, select=["KM305"]) == [(7, "KM305"), (9, "KM305")]


def test_km303_a_few_epochs_over_batch_training_still_accumulate_but_a_few_towers_do_not():
    """RULES.md: a list that lives across training steps *or epochs*. Three epochs, each training over
    batches, keep a tensor per epoch across every step (eval label: tensorflow/docs guide/core
    distribution.ipynb); a per-tower list inside one step is a handful (the audit's look-alike)."""
    epochs = src("""
        import tensorflow as tf

        model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
        opt = tf.keras.optimizers.SGD()
        epochs = 3
        train_losses = []
        for epoch in range(epochs):
            batch_losses = []
            for x, y in ds:
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(model(x) - y))
                opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
                batch_losses.append(float(loss))
            train_loss = tf.reduce_mean(batch_losses)
            train_losses.append(train_loss)
    """)
    assert codes(epochs, select=["KM303"]) == [(15, "KM303")]
    towers = src("""
        import tensorflow as tf

        model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
        opt = tf.keras.optimizers.SGD()
        num_towers = 2
        for x, y in ds:
            grads = []
            for i in range(num_towers):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(model(x[i::2]) - y[i::2]))
                grads.append(tape.gradient(loss, model.trainable_variables))
            opt.apply_gradients(zip(grads[0], model.trainable_variables))
    """)
    assert codes(towers, select=["KM303"]) == []
