"""The Keras layer: reads Keras models into core descriptions and builds the teaching models.

Modules here import Keras (and so a backend) when they are imported; ``import
convviz`` does not import them.
"""

from ..backend import load_keras as _load_keras

_load_keras()
