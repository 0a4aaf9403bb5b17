import glob

import cv2
import numpy as np
import tensorflow as tf
from tensorflow import keras

model = keras.models.load_model("classifier.keras")
x_test = np.load("x_test.npy")

# one sample at a time
predictions = []
for i in range(len(x_test)):
    predictions.append(model.predict(x_test[i:i + 1], verbose=0))  # expect: KM203

# small batches of a tf.data pipeline
test_ds = tf.data.Dataset.from_tensor_slices(x_test).batch(8)
scores = [model.predict(batch) for batch in test_ds]  # expect: KM203


# through a helper defined in the same file
def classify(path):
    image = keras.utils.load_img(path, target_size=(224, 224))
    array = keras.utils.img_to_array(image)[None] / 255.0
    return model.predict(array, verbose=0).argmax()


labels = {}
for path in sorted(glob.glob("images/*.jpg")):
    labels[path] = classify(path)  # expect: KM203

# a camera loop
camera = cv2.VideoCapture(0)
while True:
    ok, frame = camera.read()
    if not ok:
        break
    probs = model.predict(frame[None].astype("float32"))  # expect: KM203

# a batch buffer made before the loop and filled in place every iteration (a GAN's noise)
generator = keras.models.load_model("generator.keras")
noise = np.zeros((32, 100))
for step in range(1000):
    for row in range(32):
        noise[row, :] = np.random.uniform(-1, 1, 100)
    fakes = generator.predict(noise, verbose=0)  # expect: KM203
    model.train_on_batch(np.concatenate([x_test[:32], fakes]), np.r_[np.ones(32), np.zeros(32)])

# an agent's step loop: one-step training does not make it an epoch loop
state = np.load("start.npy")
done = False
while not done:
    q_values = model.predict(state, verbose=0)  # expect: KM203
    state, reward, done = np.load("step.npy"), 0.0, bool(np.random.rand() < 0.01)
    model.train_on_batch(state, q_values)

# a forecast of one series, extended by its own prediction for 14 steps
series = x_test[0][np.newaxis, :50]
for step_ahead in range(14):
    next_value = model.predict(series, verbose=0)  # expect: KM203
    series = np.concatenate([series, next_value.reshape(1, 1, -1)], axis=1)

# a training step that predicts on a batch drawn at random from a replay
# buffer, called once per episode: a new batch every call, whatever its argument
replay_buffer = [np.load("transition.npy") for _ in range(1000)]


def sample_experiences(batch_size):
    indices = np.random.randint(len(replay_buffer), size=batch_size)
    return np.stack([replay_buffer[i] for i in indices])


def training_step(batch_size):
    next_states = sample_experiences(batch_size)
    next_q = model.predict(next_states, verbose=0)
    model.train_on_batch(next_states, next_q)


for episode in range(600):
    training_step(32)  # expect: KM203


# a policy handed to an episode runner that calls it once per step
def greedy_policy(obs):
    return int(model.predict(obs[np.newaxis], verbose=0)[0].argmax())  # expect: KM203


def run_episode(policy, n_max_steps=200):
    obs = np.load("start.npy")
    for step in range(n_max_steps):
        action = policy(obs)
        obs = np.load(f"obs_{action}_{step}.npy")


run_episode(greedy_policy)
