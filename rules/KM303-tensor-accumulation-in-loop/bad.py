import numpy as np
import tensorflow as tf

x = np.random.rand(256, 8).astype("float32")
y = np.random.rand(256, 1).astype("float32")
train_ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])
optimizer = tf.keras.optimizers.Adam()
loss_fn = tf.keras.losses.MeanSquaredError()
val_mae = tf.keras.metrics.MeanAbsoluteError()


@tf.function
def train_step(xb, yb):
    with tf.GradientTape() as tape:
        loss = loss_fn(yb, model(xb, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


losses = []
maes = []
for epoch in range(20):
    for xb, yb in train_ds:
        loss = train_step(xb, yb)
        losses.append(loss)  # expect: KM303
    for xb, yb in train_ds:
        val_mae.update_state(yb, model(xb))
    maes.append(val_mae.result())  # expect: KM303

# a helper appending to a module-level list, called from the training loop
step_losses = []


def logged_step(xb, yb):
    loss = train_step(xb, yb)
    step_losses.append(loss)


for epoch in range(20):
    for xb, yb in train_ds:
        logged_step(xb, yb)  # expect: KM303


# an epoch's mean unpacked from a tuple of reductions, kept across all epochs
train_history, val_history = [], []
for epoch in range(20):
    step_losses, step_maes = [], []
    for xb, yb in train_ds:
        step_losses.append(train_step(xb, yb))
        step_maes.append(val_mae(yb, model(xb)))
    epoch_loss, epoch_mae = tf.reduce_mean(step_losses), tf.reduce_mean(step_maes)
    train_history.append(epoch_loss)  # expect: KM303

# a TF1-style alias (`import tensorflow.compat.v1 as tf`) names the same Keras metrics
import tensorflow.compat.v1 as tf1

v1_mean = tf1.keras.metrics.Mean()
v1_results = []
for epoch in range(20):
    for xb, yb in train_ds:
        v1_mean.update_state(train_step(xb, yb))
    v1_results.append(v1_mean.result())  # expect: KM303
