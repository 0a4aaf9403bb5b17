import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

train_datagen = ImageDataGenerator(  # expect: KM206
    rescale=1.0 / 255,
    rotation_range=20,
    horizontal_flip=True,
    validation_split=0.2,
)
test_datagen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1.0 / 255)  # expect: KM206
plain = keras.preprocessing.image.ImageDataGenerator()  # expect: KM206

train_gen = train_datagen.flow_from_directory("data/train", target_size=(224, 224), subset="training")
