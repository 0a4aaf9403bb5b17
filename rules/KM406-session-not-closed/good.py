import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

x = tf.compat.v1.placeholder(tf.float32, [None, 4])
out = tf.reduce_sum(x)

with tf.compat.v1.Session() as sess:
    print(sess.run(out, feed_dict={x: np.ones((2, 4))}))

closed = tf.compat.v1.Session()
try:
    closed.run(out, feed_dict={x: np.ones((2, 4))})
finally:
    closed.close()

later = tf.compat.v1.Session()
with later:
    later.run(out, feed_dict={x: np.ones((2, 4))})


def make_session():
    # the caller owns and closes it
    session = tf.compat.v1.Session()
    return session


# handed to Keras, which owns it for the rest of the process
tf.compat.v1.keras.backend.set_session(tf.compat.v1.Session())

# an interactive session is meant to stay open in a notebook
interactive = tf.compat.v1.InteractiveSession()


class Evaluator:
    def __init__(self):
        self.session = tf.compat.v1.Session()

    def close(self):
        self.session.close()
