"""The data at a glance: image grids, class balance, pixel statistics."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

CHANNELS = ("red", "green", "blue")


def _check_images(x, name="x"):
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"{name} must be images of shape (N, H, W, 3); got {x.shape}")
    return x


def image_grid(x, y, class_names, per_class: int = 8, seed: int = 0) -> Figure:
    """A row of ``per_class`` randomly chosen images for every class."""
    x = _check_images(x)
    y = np.asarray(y).reshape(-1)
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1; got {per_class}")
    rng = np.random.default_rng(seed)
    n = len(class_names)
    fig = Figure(figsize=(per_class * 0.9 + 1.2, n * 0.9), layout="constrained")
    axes = fig.subplots(n, per_class, squeeze=False)
    for c, name in enumerate(class_names):
        idx = np.flatnonzero(y == c)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else []
        for j in range(per_class):
            ax = axes[c, j]
            ax.set_xticks([]), ax.set_yticks([])
            if j < len(pick):
                ax.imshow(x[pick[j]], interpolation="nearest")
            if j == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    return fig


def class_counts(y, n_classes: int) -> np.ndarray:
    y = np.asarray(y).reshape(-1)
    return np.bincount(y, minlength=n_classes)


def class_balance(y_train, y_test, class_names) -> Figure:
    """Images per class in the training and test splits."""
    n = len(class_names)
    train, test = class_counts(y_train, n), class_counts(y_test, n)
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(n)
    ax.bar(pos - 0.2, train, 0.4, label=f"train ({train.sum():,})")
    ax.bar(pos + 0.2, test, 0.4, label=f"test ({test.sum():,})")
    ax.set_xticks(pos, class_names, rotation=30, ha="right")
    ax.set(ylabel="images", title="images per class")
    ax.legend()
    return fig


def pixel_stats(x) -> dict:
    """Per-channel mean and standard deviation of the pixel values, in [0, 255]."""
    x = _check_images(x)
    # Chunked so a full training set never becomes one float copy.
    total = np.zeros(3)
    total_sq = np.zeros(3)
    count = 0
    for start in range(0, len(x), 5000):
        chunk = x[start:start + 5000].reshape(-1, 3).astype(np.float64)
        total += chunk.sum(0)
        total_sq += (chunk ** 2).sum(0)
        count += len(chunk)
    mean = total / count
    std = np.sqrt(total_sq / count - mean ** 2)
    return {c: {"mean": float(m), "std": float(s)} for c, m, s in zip(CHANNELS, mean, std)}


def pixel_histograms(x) -> Figure:
    """Histogram of pixel values per colour channel."""
    x = _check_images(x)
    fig = Figure(figsize=(8, 2.8), layout="constrained")
    ax = fig.subplots()
    stats = pixel_stats(x)
    for ch, name in enumerate(CHANNELS):
        counts = np.zeros(256, dtype=np.int64)
        for start in range(0, len(x), 5000):
            counts += np.bincount(x[start:start + 5000, ..., ch].ravel(), minlength=256)
        ax.plot(np.arange(256), counts / counts.sum(), color=name,
                label=f"{name}: mean {stats[name]['mean']:.1f}, std {stats[name]['std']:.1f}")
    ax.set(xlabel="pixel value", ylabel="share of pixels", title="pixel values per channel")
    ax.legend(fontsize=8)
    return fig
