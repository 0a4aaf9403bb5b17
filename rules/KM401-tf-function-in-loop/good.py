import numpy as np
import tensorflow as tf

train_ds = tf.data.Dataset.from_tensor_slices((np.zeros((64, 8), "float32"), np.zeros((64, 1), "float32"))).batch(16)


def build():
    return tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])


model = build()
optimizer = tf.keras.optimizers.SGD(0.01)


# created once, before the loop
@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


fast_forward = tf.function(lambda x: model(x, training=False))
for epoch in range(10):
    for x, y in train_ds:
        train_step(x, y)
        fast_forward(x)

# a new model per trial needs its own trace: the function closes over it
for trial in range(5):
    trial_model = build()
    trial_optimizer = tf.keras.optimizers.Adam()

    @tf.function
    def trial_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(trial_model(x) - y))
        grads = tape.gradient(loss, trial_model.trainable_variables)
        trial_optimizer.apply_gradients(zip(grads, trial_model.trainable_variables))
        return loss

    for x, y in train_ds:
        trial_step(x, y)

# wrapping a different function on each iteration
compiled = {}
for fn in (tf.nn.relu, tf.nn.sigmoid):
    compiled[fn.__name__] = tf.function(fn)


# a factory called once, outside any loop
def make_step():
    return tf.function(lambda x: model(x))


step = make_step()
for x, y in train_ds:
    step(x)
