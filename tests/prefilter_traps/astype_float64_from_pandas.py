# float64 from `astype` on a pandas frame: no numpy import anywhere.
import keras
import pandas as pd

frame = pd.read_csv("train.csv")
features = frame.drop(columns=["label"]).values.astype("float64")  # expect: KM302
model = keras.Sequential([keras.layers.Dense(1)])
model.compile("adam", "mse")
model.fit(features, frame["label"].values)
