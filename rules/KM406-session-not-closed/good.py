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


# stored on an object (a cache, a singleton): its owner manages the lifetime
class Evaluator:
    def __init__(self):
        self.session = tf.compat.v1.Session()

    def __call__(self, batch):
        return self.session.run(out, feed_dict={x: batch})


# used in passing: the session is unreferenced after the statement and its
# finaliser closes it right away
print(tf.compat.v1.Session().run(out, feed_dict={x: np.ones((1, 4))}))


def branches(target):
    # bound in two branches, handed to Keras after them
    if target:
        session = tf.compat.v1.Session(target=target)
    else:
        session = tf.compat.v1.Session()
    tf.compat.v1.keras.backend.set_session(session)


def restore_named(saver, path):
    # a named session made the default and closed afterwards
    restore_sess = tf.compat.v1.Session()
    with restore_sess.as_default():
        saver.restore(restore_sess, path)
    restore_sess.close()


# handed to a helper of this file that closes it
def run_and_close(session, batch):
    try:
        return session.run(out, feed_dict={x: batch})
    finally:
        session.close()


owned = tf.compat.v1.Session()
print(run_and_close(owned, np.ones((2, 4))))
