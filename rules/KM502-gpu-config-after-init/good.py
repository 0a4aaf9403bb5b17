import numpy as np
import tensorflow as tf

# a project module (model_lib.py, next to this file) that creates nothing on import
import model_lib

# listing physical devices does not initialise the runtime
gpus = tf.config.list_physical_devices("GPU")
for gpu in gpus:
    tf.config.experimental.set_memory_growth(gpu, True)
if gpus:
    tf.config.set_logical_device_configuration(gpus[0], [tf.config.LogicalDeviceConfiguration(memory_limit=4096)])


def configure_devices():
    tf.config.set_visible_devices(gpus[:1], "GPU")


def main():
    configure_devices()  # before any tensor work
    features = np.random.rand(1000, 16).astype("float32")
    train_ds = tf.data.Dataset.from_tensor_slices(features).batch(32)
    model = model_lib.build(16)
    model.compile(optimizer="adam", loss="mse")
    model.fit(train_ds, epochs=1)


def build_later():
    # defined before the configuration but never run before it
    return tf.zeros((4, 4))


if __name__ == "__main__":
    main()
