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
