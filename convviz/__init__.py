"""convviz: how convolutional networks got cheap, computed and drawn.

Importing ``convviz`` does not import TensorFlow: the cost formulas, receptive
fields and pictures work without it. TensorFlow loads only when a model is
built, read or trained (``convviz.train``, ``convviz.data.load_cifar10``'s
download fallback, ``convviz.models``).
"""
from __future__ import annotations

import os as _os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise in a notebook.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .profiles import PROFILES, Profile, get_profile

__version__ = "0.1.0"
__all__ = ["PROFILES", "Profile", "get_profile", "train", "__version__"]


def __getattr__(name):
    # Lazy: ``convviz.train`` loads TensorFlow only when called for.
    if name == "train":
        from .training import train

        return train
    raise AttributeError(f"module 'convviz' has no attribute {name!r}")
