from tensorflow.keras import Sequential
from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input, Softmax
from tensorflow.keras.losses import CategoricalCrossentropy

model = Sequential([
    Input((32, 32, 3)),
    Conv2D(32, 3, activation="relu"),
    Flatten(),
    Dense(3),
])
model.compile(loss=CategoricalCrossentropy(from_logits=True), optimizer="adam")
