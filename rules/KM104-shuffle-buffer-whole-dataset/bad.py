import glob
import os

import tensorflow as tf
import tensorflow_datasets as tfds

IMAGE_SIZE = (224, 224)
CLASSES = sorted(os.listdir("photos"))
paths = sorted(glob.glob("photos/*/*.jpg"))
labels = [CLASSES.index(os.path.basename(os.path.dirname(p))) for p in paths]


def load_image(path, label):
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    image = tf.image.resize(image, IMAGE_SIZE)
    return image, label


# Decoded 224x224 RGB images, then a buffer the size of the whole data set.
ds = tf.data.Dataset.from_tensor_slices((paths, labels))
ds = ds.map(load_image, num_parallel_calls=tf.data.AUTOTUNE)
ds = ds.shuffle(buffer_size=len(paths))  # expect: KM104
ds = ds.batch(32).prefetch(tf.data.AUTOTUNE)

# A literal buffer: 8192 decoded images of 224x224x3 float32 is about 4.6 GiB.
ds2 = tf.data.Dataset.list_files("photos/*/*.jpg").map(lambda p: load_image(p, 0)).shuffle(8192)  # expect: KM104

# tfds decodes the images itself: 10000 ImageNet examples are about 4.6 GiB.
imagenet = tfds.load("imagenet2012", split="train", as_supervised=True)
imagenet = imagenet.shuffle(10_000).batch(64)  # expect: KM104

# A tfds split list unpacked into names, the buffer from `info.splits` (issue 16,
# classes 1 and 11): 23262 // 4 = 5815 decoded cats_vs_dogs images, about 1.3 GiB.
(pets_train, pets_val), info = tfds.load("cats_vs_dogs", split=["train[:80%]", "train[80%:]"],
                                         with_info=True, as_supervised=True)
num_examples = info.splits["train"].num_examples
pets_batches = pets_train.shuffle(num_examples // 4).batch(32)  # expect: KM104
