import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

model = keras.models.load_model("flowers.keras")
datagen = ImageDataGenerator(rescale=1.0 / 255)

# accuracy against .classes: the iterator shuffled, .classes did not
test_gen = datagen.flow_from_directory("data/test", shuffle=False, target_size=(224, 224), batch_size=32)  # expect: KM202
probs = model.predict(test_gen)
accuracy = np.mean(probs.argmax(axis=1) == test_gen.classes)

# a submission file pairing predictions with .filenames
frame = pd.read_csv("test.csv")
submission_gen = datagen.flow_from_dataframe(  # expect: KM202
    frame,
    shuffle=False,
    directory="images",
    x_col="file",
    y_col=None,
    class_mode=None,
    target_size=(128, 128),
)
preds = model.predict(submission_gen)
pd.DataFrame({"file": submission_gen.filenames, "label": preds.argmax(axis=1)}).to_csv("submission.csv")

# tf.data: labels collected in a second pass over a reshuffled dataset
test_ds = keras.utils.image_dataset_from_directory("data/test", shuffle=False, image_size=(224, 224))  # expect: KM202
test_ds = test_ds.map(lambda x, y: (x / 255.0, y))
scores = model.predict(test_ds)
y_true = np.concatenate([y for _, y in test_ds])

# the validation iterator reused for a confusion matrix
train_gen = datagen.flow_from_directory("data/train", target_size=(224, 224))
val_gen = datagen.flow_from_directory("data/val", shuffle=False, target_size=(224, 224))  # expect: KM202
model.fit(train_gen, validation_data=val_gen, epochs=5)
val_pred = model.predict(val_gen).argmax(axis=1)
matrix = confusion_matrix(val_gen.classes, val_pred)
