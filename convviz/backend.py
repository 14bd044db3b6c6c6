"""Load Keras and its backend without TensorFlow's start-up chatter.

TensorFlow 2.21 writes a dozen C++ log lines (oneDNN notices, CUDA probing on machines without
a GPU) straight to file descriptor 2 when it is imported and when it first lists its devices;
``TF_CPP_MIN_LOG_LEVEL`` no longer silences them. In a notebook they land in the cell as a red
block. :func:`load_keras` imports Keras with descriptor 2 pointed at /dev/null for that moment
only, and does nothing once Keras is loaded.
"""
from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def _silenced_fd2():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (some embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def load_keras():
    """Import and return ``keras`` (and, on the TensorFlow backend, list its devices) quietly."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with _silenced_fd2():
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()
    return keras
