import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

model = keras.models.load_model("flowers.keras")
datagen = ImageDataGenerator(rescale=1.0 / 255)

# shuffle=False: predictions follow .classes / .filenames
test_gen = datagen.flow_from_directory("data/test", target_size=(224, 224), shuffle=False)
probs = model.predict(test_gen)
accuracy = np.mean(probs.argmax(axis=1) == test_gen.classes)
names = test_gen.filenames

# training and validation: order does not matter, .classes only feeds class weights
train_gen = datagen.flow_from_directory("data/train", target_size=(224, 224))
val_gen = datagen.flow_from_directory("data/val", target_size=(224, 224))
weights = compute_class_weight("balanced", classes=np.unique(train_gen.classes), y=train_gen.classes)
model.fit(train_gen, validation_data=val_gen, class_weight=dict(enumerate(weights)), epochs=5)

# evaluate only: loss and accuracy do not depend on the order
eval_gen = datagen.flow_from_directory("data/test", target_size=(224, 224))
loss, acc = model.evaluate(eval_gen)
print(len(eval_gen.classes), "test images")

# labels taken from the same yielded batch as the prediction
test_ds = keras.utils.image_dataset_from_directory("data/test", image_size=(224, 224))
hits = 0
for images, labels in test_ds:
    hits += int(np.sum(model.predict(images, verbose=0).argmax(axis=1) == labels.numpy()))
batch_x, batch_y = next(train_gen)
batch_pred = model.predict(batch_x)

# predictions without any label pass, and order-free metadata
unlabelled = datagen.flow_from_directory("data/unlabelled", class_mode=None)
embeddings = model.predict(unlabelled)
label_names = {v: k for k, v in unlabelled.class_indices.items()}

# shuffle decided elsewhere: cannot tell
def make_iterator(shuffle, **options):
    return datagen.flow_from_directory("data/test", shuffle=shuffle, **options)


loose = datagen.flow_from_directory("data/test", **{"shuffle": False})
loose_pred = model.predict(loose)
loose_labels = loose.classes
