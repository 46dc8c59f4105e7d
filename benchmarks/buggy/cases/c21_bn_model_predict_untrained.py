import numpy as np
import keras
from keras import layers

model = keras.Sequential([keras.Input((5,)), layers.BatchNormalization()])
print(model.predict(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])))
