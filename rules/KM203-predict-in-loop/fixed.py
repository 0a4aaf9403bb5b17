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
    predictions.append(model.predict_on_batch(x_test[i:i + 1]))  # expect: KM203

# small batches of a tf.data pipeline
test_ds = tf.data.Dataset.from_tensor_slices(x_test).batch(8)
scores = [model.predict_on_batch(batch) for batch in test_ds]  # expect: KM203


# through a helper defined in the same file
def classify(path):
    image = keras.utils.load_img(path, target_size=(224, 224))
    array = keras.utils.img_to_array(image)[None] / 255.0
    return model.predict_on_batch(array).argmax()


labels = {}
for path in sorted(glob.glob("images/*.jpg")):
    labels[path] = classify(path)  # expect: KM203

# a camera loop
camera = cv2.VideoCapture(0)
while True:
    ok, frame = camera.read()
    if not ok:
        break
    probs = model.predict_on_batch(frame[None].astype("float32"))  # expect: KM203
