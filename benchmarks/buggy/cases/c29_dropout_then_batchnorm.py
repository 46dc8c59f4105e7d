import keras
from keras import layers

clf = keras.Sequential([
    keras.Input((30,)),
    layers.Dense(64, activation="relu"),
    layers.Dropout(0.3),
    layers.BatchNormalization(),
    layers.Dense(1, activation="sigmoid"),
])
clf.compile(optimizer="adam", loss="binary_crossentropy", metrics=[keras.metrics.AUC()])
