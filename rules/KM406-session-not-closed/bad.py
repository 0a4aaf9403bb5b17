import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

x = tf.compat.v1.placeholder(tf.float32, [None, 4])
out = tf.reduce_sum(x)

sess = tf.compat.v1.Session()  # expect: KM406
print(sess.run(out, feed_dict={x: np.ones((2, 4))}))

print(tf.compat.v1.Session().run(out, feed_dict={x: np.ones((1, 4))}))  # expect: KM406


class Evaluator:
    def __init__(self):
        self.session = tf.compat.v1.Session()  # expect: KM406

    def __call__(self, batch):
        return self.session.run(out, feed_dict={x: batch})
