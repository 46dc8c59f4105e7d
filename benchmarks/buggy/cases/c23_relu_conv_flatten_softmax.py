import keras
from keras import layers

img = keras.Input((64, 64, 3))
x = layers.Conv2D(8, 7, padding="same", activation="relu")(img)
x = layers.Conv2D(1, 7, padding="same", activation="relu")(x)
x = layers.Flatten()(x)
saliency = layers.Activation("softmax")(x)
model = keras.Model(img, saliency)
model.compile(optimizer="adam", loss="kld")
