import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

x = tf.placeholder(tf.float32, [None, 4])
y = tf.placeholder(tf.float32, [None, 1])
w = tf.Variable(tf.zeros([4, 1]))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
# ops built once, before the loop
decay = w.assign(w * 0.999)
saver = tf.train.Saver()
init = tf.global_variables_initializer()

with tf.Session() as sess:
    sess.run(init)
    for step in range(1000):
        sess.run(train_op, feed_dict={x: np.zeros((8, 4)), y: np.zeros((8, 1))})
        sess.run(decay)
        if step % 100 == 0:
            saver.save(sess, "ckpt/model", global_step=step)

# a fresh graph for every run
for run in range(3):
    tf.reset_default_graph()
    c = tf.constant(float(run))
    with tf.Session() as s:
        s.run(c)

# ops created in a loop that never runs a session (building the graph)
layers = []
for i in range(4):
    layers.append(tf.layers.dense(x, 4))

# two passes (test and training phase), each converting the input once: the
# graph grows by two ops, not every step
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for phase, phase_name in enumerate(["test", "train"]):
        phase_out = sess.run(tf.convert_to_tensor(np.ones((2, 4)), dtype=tf.float32))

# a finalized graph raises on any new op instead of growing silently
tf.get_default_graph().finalize()
with tf.Session() as sess:
    for step in range(10):
        sess.run(tf.identity(w))
