"""KM401-KM406: tf.function creation and retracing, persistent tapes, TF1
graphs and sessions, on realistic code."""

from __future__ import annotations

import textwrap

import pytest

from tests.fixing import apply_fixes
from tests.helpers import codes, lint


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ------------------------------------------------------------------ KM401

def test_decorated_step_defined_per_epoch_is_flagged():
    text = src("""
        import tensorflow as tf

        model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
        for epoch in range(100):
            @tf.function(jit_compile=True)
            def step(x):
                return model(x)
            step(tf.zeros((1, 3)))
    """)
    found = lint(text, select=["KM401"])
    assert [(f.line, f.code) for f in found] == [(5, "KM401")]
    assert "`step`" in found[0].message


def test_wrapping_in_a_comprehension_is_a_loop_too():
    text = src("""
        import tensorflow as tf

        def f(x):
            return x * 2

        results = [tf.function(f)(tf.constant(i)) for i in range(100)]
    """)
    assert codes(text, select=["KM401"]) == [(6, "KM401")]


# ------------------------------------------------------------------ KM402

CURRICULUM = src("""
    import tensorflow as tf

    class Trainer(tf.keras.Model):
        @tf.function
        def train_batch(self, x, difficulty):
            return tf.reduce_mean(x) * difficulty

    trainer = Trainer()
    data = tf.data.Dataset.from_tensor_slices(tf.zeros((32, 4))).batch(8)
    difficulty = 0.0
    for epoch in range(40):
        for x in data:
            trainer.train_batch(x, difficulty)
        difficulty += 0.025
""")


def test_method_tf_function_with_a_python_float_schedule_is_flagged():
    found = lint(CURRICULUM, select=["KM402"])
    assert [(f.line, f.code) for f in found] == [(13, "KM402")]
    assert "`trainer.train_batch`" in found[0].message and "`difficulty`" in found[0].message
    assert "trainer.train_batch(x, tf.constant(difficulty))" in apply_fixes(CURRICULUM, "KM402")


@pytest.mark.parametrize("decorator", [
    "@tf.function(reduce_retracing=True)",
    "@tf.function(experimental_relax_shapes=True)",
    "@tf.function(input_signature=[tf.TensorSpec([None, 4]), tf.TensorSpec([])])",
])
def test_declared_retracing_policy_is_respected(decorator):
    assert codes(CURRICULUM.replace("@tf.function", decorator), select=["KM402"]) == []


def test_python_enumerate_counter_is_flagged_dataset_enumerate_is_not():
    text = src("""
        import tensorflow as tf

        @tf.function
        def log_step(step, x):
            tf.print(step, tf.reduce_sum(x))

        ds = tf.data.Dataset.range(100).batch(10)
        for step, x in enumerate(ds):
            log_step(step, x)
        for step, x in ds.enumerate():
            log_step(step, x)
    """)
    assert codes(text, select=["KM402"]) == [(9, "KM402")]


def test_growing_prefix_gets_reduce_retracing_on_the_decorator():
    text = src("""
        import tensorflow as tf

        @tf.function
        def encode(tokens):
            return tf.reduce_sum(tokens, axis=-1)

        tokens = tf.ones((1, 512))
        for n in range(1, 512):
            encode(tokens[:, :n])
    """)
    assert codes(text, select=["KM402"]) == [(9, "KM402")]
    assert "@tf.function(reduce_retracing=True)\ndef encode" in apply_fixes(text, "KM402")


# ------------------------------------------------------------------ KM403

def test_relax_shapes_with_both_keywords_is_reported_without_a_fix():
    text = src("""
        import tensorflow as tf

        f = tf.function(lambda x: x, reduce_retracing=True, experimental_relax_shapes=True)
    """)
    found = lint(text, select=["KM403"])
    assert [(f.line, f.code) for f in found] == [(3, "KM403")]
    assert found[0].fix is None


def test_relax_shapes_through_an_alias_import():
    text = src("""
        from tensorflow import function as tf_function

        @tf_function(experimental_relax_shapes=True)
        def f(x):
            return x
    """)
    assert apply_fixes(text, "KM403") == text.replace("experimental_relax_shapes", "reduce_retracing")


# ------------------------------------------------------------------ KM404

def test_persistent_tape_in_a_custom_fit_loop_inside_a_function():
    text = src("""
        import tensorflow as tf

        def train(model, ds, opt, epochs):
            for epoch in range(epochs):
                for x, y in ds:
                    with tf.GradientTape(persistent=True) as tape:
                        pred = model(x, training=True)
                        loss = tf.reduce_mean(tf.square(pred - y))
                        reg = tf.add_n(model.losses) if model.losses else 0.0
                    g1 = tape.gradient(loss, model.trainable_variables)
                    g2 = tape.gradient(reg, model.trainable_variables)
                    opt.apply_gradients(zip(g1, model.trainable_variables))
            return model
    """)
    assert codes(text, select=["KM404"]) == [(6, "KM404")]
    fixed = apply_fixes(text, "KM404")
    assert "g2 = tape.gradient(reg, model.trainable_variables)\n            del tape\n" in fixed


def test_tape_used_after_the_loop_is_not_flagged():
    text = src("""
        import tensorflow as tf

        x = tf.Variable(1.0)
        for i in range(10):
            with tf.GradientTape(persistent=True) as tape:
                y = x * x
            dy = tape.gradient(y, x)
        print(tape.gradient(y, x))
    """)
    assert codes(text, select=["KM404"]) == []


# ------------------------------------------------------------------ KM405 / KM406

def test_tf1_eval_loop_building_ops_in_a_helper_is_reported_at_the_helper_call():
    text = src("""
        import tensorflow.compat.v1 as tf

        def accuracy(logits, labels):
            return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

        def evaluate(sess, logits, labels, batches):
            for feed in batches:
                acc = accuracy(logits, labels)
                print(sess.run(acc, feed_dict=feed))
    """)
    found = lint(text, select=["KM405"])
    assert [(f.line, f.code) for f in found] == [(8, "KM405")]
    assert "`accuracy`" in found[0].message


def test_session_closed_in_a_finally_or_managed_is_clean_leaked_one_is_flagged():
    text = src("""
        import tensorflow as tf

        def run_once(fetch):
            sess = tf.compat.v1.Session()
            return sess.run(fetch)

        def run_managed(fetch):
            with tf.compat.v1.Session() as sess:
                return sess.run(fetch)

        def run_closed(fetch):
            sess = tf.compat.v1.Session()
            try:
                return sess.run(fetch)
            finally:
                sess.close()
    """)
    assert codes(text, select=["KM406"]) == [(4, "KM406")]


KM402_FUNCTIONS = """
    import tensorflow as tf

    @tf.function
    def scaled(x, step):
        return tf.reduce_mean(x) * step

    @tf.function
    def cast_only(x, epoch):
        return x * tf.cast(epoch, tf.float32)

    @tf.function
    def indexed(x, k):
        return x[k]

    for step in range(100):
        scaled(x, step)
        cast_only(x, step)
        indexed(x, step)
"""


def test_km402_tensor_fix_keeps_the_dtype_the_function_computes_in():
    """Issue 12: `scaled(x, tf.constant(step))` dies with an int32/float32 Mul
    error; the fix must pass float32 there, any tensor where the parameter
    only reaches tf.cast, and nothing where the use is unknown (an index)."""
    import textwrap

    from kmlint.config import Settings
    from kmlint.engine.linter import lint_text

    src = textwrap.dedent(KM402_FUNCTIONS)
    res = lint_text(src, "t.py", Settings(select=["KM402"]))
    fixes = {f.line: (f.fix.apply(src).splitlines()[f.line - 1].strip() if f.fix else None) for f in res.findings}
    assert fixes == {
        17: "scaled(x, tf.constant(step, tf.float32))",
        18: "cast_only(x, tf.constant(step))",
        19: None,
    }


def test_km402_successive_module_level_calls_with_new_python_numbers():
    """Issue 16, class 5: retracing without a loop (consecutive notebook cells,
    a script's steps); the same value again, tensors and bools do not count."""
    text = src("""
        import tensorflow as tf

        @tf.function
        def cube(x):
            return x ** 3

        cube(2)
        cube(2)
        cube(tf.constant(4))
        cube(True)
        cube(3)

        @tf.function
        def train(num_steps):
            return num_steps

        train(num_steps=10)
        train(num_steps=20)
    """)
    found = lint(text, select=["KM402"])
    assert [(f.line, f.column) for f in found] == [(11, 6), (18, 17)]
    assert "`3` after `2`" in found[0].message and "`20` after `10`" in found[1].message


def test_km402_helper_forwarding_to_two_tf_function_calls_is_one_finding():
    """A helper passing its parameter to two calls of one tf.function, called
    from a loop with the loop counter: one finding at the loop's argument."""
    text = (
        "import tensorflow as tf\n\n"
        "@tf.function\n"
        "def step(x, k):\n    return x * k\n\n"
        "def helper(k):\n    return step(tf.zeros(2), k) + step(tf.ones(2), k)\n\n"
        "for i in range(100):\n    helper(i)\n"
    )
    assert codes(text, select=["KM402"]) == [(11, "KM402")]
    # a tensor built from the counter traces once
    assert codes(text.replace("helper(i)", "helper(tf.constant(i))"), select=["KM402"]) == []
