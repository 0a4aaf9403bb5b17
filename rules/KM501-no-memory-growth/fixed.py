"""Multi-GPU training script with an absl entry point."""

from absl import app
import numpy as np
import tensorflow as tf

for gpu in tf.config.list_physical_devices("GPU"):
    tf.config.experimental.set_memory_growth(gpu, True)

# Only reported: this check targets nothing, so it is not where the finding goes.
print("GPUs available:", len(tf.config.list_physical_devices("GPU")))


def main(_):
    num_gpus = 2
    # the first GPU-targeting line: device strings built by formatting, inside
    # the function that app.run() runs
    devices = ["/gpu:%d" % i for i in range(num_gpus)]  # expect: KM501
    strategy = tf.distribute.MirroredStrategy(devices)

    x = np.random.rand(1024, 32).astype("float32")
    y = np.random.rand(1024, 1).astype("float32")
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((32,)), tf.keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=64)


if __name__ == "__main__":
    app.run(main)
