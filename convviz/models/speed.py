"""What a model costs on this machine, measured: inference latency and size on disk."""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np


def inference_latency(model, batch_size: int = 1, repeats: int = 30, warmup: int = 3,
                      seed: int = 0) -> dict:
    """Wall time of one forward pass of ``batch_size`` random uint8 images, in milliseconds.

    The model is called as a compiled inference function (``predict_on_batch``), after
    ``warmup`` untimed calls. Returns ``median_ms``, ``p10_ms``, ``p90_ms``, ``per_image_ms``.
    """
    for name, value in (("batch_size", batch_size), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    shape = tuple(model.input_shape[1:])
    x = np.random.default_rng(seed).integers(0, 256, (batch_size, *shape), dtype=np.uint8)
    for _ in range(max(0, warmup)):
        model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict_on_batch(x)
        times.append((time.perf_counter() - t0) * 1e3)
    median = float(np.median(times))
    return {"batch_size": batch_size, "median_ms": median,
            "p10_ms": float(np.percentile(times, 10)), "p90_ms": float(np.percentile(times, 90)),
            "per_image_ms": median / batch_size}


def compare_latency(models: dict, batch_size: int = 1, rounds: int = 5, repeats: int = 10) -> dict:
    """:func:`inference_latency` of several models, interleaved (A, B, A, B, ...) so that noise
    from a shared machine hits all of them alike. Returns name -> median of the rounds' medians (ms).
    """
    samples = {name: [] for name in models}
    for name, model in models.items():
        inference_latency(model, batch_size, repeats=1, warmup=3)
    for _ in range(rounds):
        for name, model in models.items():
            samples[name].append(inference_latency(model, batch_size, repeats, warmup=0)["median_ms"])
    return {name: float(np.median(v)) for name, v in samples.items()}


def saved_size(model) -> int:
    """Bytes of the model saved as a ``.keras`` file: architecture and float32 weights.

    A copy without the optimizer is saved, so a trained model and a fresh one of the same
    architecture weigh the same (the optimizer's moments would double a trained one).
    """
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        copy.save(path)
        return os.path.getsize(path)
