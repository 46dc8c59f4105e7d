import keras
from keras import layers

model = keras.Sequential([keras.Input((12,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="sgd", loss="mse", metrics=[keras.metrics.AUC()])
