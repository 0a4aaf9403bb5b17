import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

x = tf.compat.v1.placeholder(tf.float32, [None, 4])
out = tf.reduce_sum(x)

sess = tf.compat.v1.Session()  # expect: KM406
print(sess.run(out, feed_dict={x: np.ones((2, 4))}))


def evaluate(batches):
    eval_sess = tf.compat.v1.Session()  # expect: KM406
    for batch in batches:
        print(eval_sess.run(out, feed_dict={x: batch}))


def restore(saver, path):
    # as_default() only makes it the default session; nothing closes it
    with tf.compat.v1.Session().as_default():  # expect: KM406
        saver.restore(tf.compat.v1.get_default_session(), path)


def default_session_scope(target):
    return tf.compat.v1.Session(target=target).as_default()  # expect: KM406


# handed only to a helper of this file that runs it: nobody closes it
def run_batch(session, batch):
    return session.run(out, feed_dict={x: batch})


shared_sess = tf.compat.v1.Session()  # expect: KM406
print(run_batch(shared_sess, np.ones((2, 4))))
