import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])
optimizer = tf.keras.optimizers.SGD(0.01)
train_ds = tf.data.Dataset.from_tensor_slices((np.zeros((64, 8), "float32"), np.zeros((64, 1), "float32"))).batch(16)


def forward(x):
    return model(x, training=False)


for epoch in range(10):
    @tf.function  # expect: KM401
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for x, y in train_ds:
        train_step(x, y)

for x, y in train_ds:
    fast_forward = tf.function(forward)  # expect: KM401
    fast_forward(x)


def predict_fast(x):
    return tf.function(forward)(x)


for x, y in train_ds:
    predict_fast(x)  # expect: KM401
