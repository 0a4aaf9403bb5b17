import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

x = tf.placeholder(tf.float32, [None, 4])
y = tf.placeholder(tf.float32, [None, 1])
w = tf.Variable(tf.zeros([4, 1]))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)


def checkpoint(sess, step):
    saver = tf.train.Saver()
    saver.save(sess, "ckpt/model", global_step=step)


with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(1000):
        sess.run(train_op, feed_dict={x: np.zeros((8, 4)), y: np.zeros((8, 1))})
        sess.run(w.assign(w * 0.999))  # expect: KM405

    for step in range(100):
        sess.run(train_op, feed_dict={x: np.zeros((8, 4)), y: np.zeros((8, 1))})
        if step % 10 == 0:
            checkpoint(sess, step)  # expect: KM405
