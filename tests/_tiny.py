"""The tiny model and random data the training tests share (``TINY`` is also run in subprocesses)."""
import textwrap

import numpy as np

TINY = textwrap.dedent("""
    import keras
    def tiny(seed=None):
        if seed is not None:
            keras.utils.set_random_seed(seed)
        i = keras.Input((32, 32, 3))
        h = keras.layers.Rescaling(1 / 255)(i)
        h = keras.layers.Conv2D(4, 3, activation="relu")(h)
        h = keras.layers.GlobalAveragePooling2D()(h)
        return keras.Model(i, keras.layers.Dense(10)(h), name="tiny")
""")
exec(TINY)


def random_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    return (x, y), (x[: n // 4], y[: n // 4])
