import numpy as np
import tensorflow as tf
from tensorflow import keras

x = np.random.rand(256, 8).astype("float32")
y = np.random.rand(256, 1).astype("float32")
train_ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
optimizer = keras.optimizers.Adam()
loss_fn = keras.losses.MeanSquaredError()


@tf.function
def train_step(xb, yb):
    with tf.GradientTape() as tape:
        loss = loss_fn(yb, model(xb, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


history = []
for epoch in range(20):
    # a per-epoch list, reset every epoch and reduced at once
    epoch_losses = []
    for xb, yb in train_ds:
        loss = train_step(xb, yb)
        epoch_losses.append(loss)
        # converted to Python numbers before appending
        history.append(float(loss))
        history.append(loss.numpy())
        history.append(loss.numpy().item())
    history.append(float(tf.reduce_mean(epoch_losses)))

# numpy results of predict
all_preds = []
for xb, yb in train_ds:
    all_preds.append(model.predict(xb, verbose=0))


# Keras callback logs values are Python floats in Keras 3
class LossHistory(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


batch_losses = []


def on_batch_end(batch, logs=None):
    batch_losses.append(logs.get("loss"))


model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=2, callbacks=[LossHistory(), keras.callbacks.LambdaCallback(on_batch_end=on_batch_end)])


# appends while tracing a tf.function run once per trace, not per step
@tf.function
def unrolled(xb):
    outputs = []
    for i in range(4):
        outputs.append(tf.nn.relu(xb * i))
    return tf.add_n(outputs)


# building per-layer tensors inside a model's call is graph construction, not a training loop
class Tower(keras.Model):
    def call(self, inputs):
        branches = []
        for scale in (1.0, 2.0, 3.0):
            branches.append(inputs * scale)
        return tf.concat(branches, axis=-1)


# --- look-alikes found in the precision audit ---

# converting a dataset to arrays: no training step in the loop
images, onehots = [], []
for image, label in train_ds.unbatch().as_numpy_iterator():
    images.append(image)
    onehots.append(tf.one_hot(int(label[0] > 0.5), 2))
onehots = np.array(onehots)


# per-step values recorded under a GradientTape are needed for the episode's gradient;
# the lists are cleared after every episode
policy = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
log_probs, rewards = [], []
for episode in range(100):
    with tf.GradientTape() as tape:
        for t in range(50):
            probs = policy(tf.random.normal((1, 4)))
            log_probs.append(tf.math.log(probs[0, 0]))
            rewards.append(1.0)
        episode_loss = -tf.add_n(log_probs)
    grads = tape.gradient(episode_loss, policy.trainable_variables)
    optimizer.apply_gradients(zip(grads, policy.trainable_variables))
    log_probs.clear()
    rewards.clear()

# gradients per interpolation step, stacked into one tensor right after the loop
saliency = []
for alpha in np.linspace(0.0, 1.0, 32):
    with tf.GradientTape() as tape:
        scaled = tf.constant(x[:1] * alpha)
        tape.watch(scaled)
        score = tf.reduce_sum(model(scaled))
    saliency.append(tape.gradient(score, scaled))
mean_saliency = tf.reduce_mean(tf.stack(saliency), axis=0)

# per-batch weights handed to a metric in one call after the evaluation loop
eval_mse = keras.metrics.Mean()
batch_losses, batch_sizes = [], []
for xb, yb in train_ds:
    batch_losses.append(loss_fn(yb, model(xb)).numpy())
    batch_sizes.append(tf.shape(xb)[0])
eval_mse.update_state(batch_losses, sample_weight=batch_sizes)

# a buffer flushed (rebound) every 100 steps
window = []
for step, (xb, yb) in enumerate(train_ds.repeat(10)):
    window.append(train_step(xb, yb))
    if len(window) == 100:
        print(float(tf.reduce_mean(window)))
        window = []


# one gradient list per step, one entry per GPU tower: it never holds more than
# num_towers tensors and is averaged in the same step
num_towers = 2


@tf.function
def tower_gradients(xb, yb):
    with tf.GradientTape() as tape:
        loss = loss_fn(yb, model(xb, training=True))
    return tape.gradient(loss, model.trainable_variables)


def multi_tower_step(xb, yb):
    per_tower = []
    size = xb.shape[0] // num_towers
    for t in range(num_towers):
        per_tower.append(tower_gradients(xb[t * size:(t + 1) * size], yb[t * size:(t + 1) * size]))
    averaged = [tf.reduce_mean(tf.stack(gs), axis=0) for gs in zip(*per_tower)]
    optimizer.apply_gradients(zip(averaged, model.trainable_variables))


for xb, yb in train_ds:
    multi_tower_step(xb, yb)
