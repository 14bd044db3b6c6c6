"""Cross-channel and spatial correlations of a layer's activations (the Inception hypothesis).

Inception's bet is that the correlations across channels and the correlations
across space are separate enough to be learned by separate steps (1x1, then
spatial convolutions). These two functions measure both from activations of
shape ``(N, H, W, C)``.
"""
from __future__ import annotations

import numpy as np


def _check_activations(activations):
    a = np.asarray(activations, dtype=float)
    if a.ndim != 4:
        raise ValueError(f"activations must have shape (N, H, W, C); got {a.shape}")
    return a


def _varies(std, scale):
    """Whether a channel/map varies beyond rounding: std above 1e-9 of its largest magnitude."""
    return std > 1e-9 * scale


def channel_correlation(activations):
    """Pearson correlation ``(C, C)`` between channels, over all images and positions.

    A constant channel has no correlation: its row and column are 0 (its diagonal too).
    """
    a = _check_activations(activations)
    x = a.reshape(-1, a.shape[-1])
    x = x - x.mean(axis=0)
    std = np.sqrt((x ** 2).mean(axis=0))
    varies = _varies(std, np.abs(a).max(axis=(0, 1, 2)))
    z = x / np.where(varies, std, 1.0)
    # einsum, not z.T @ z: a multi-threaded BLAS can stall for ~0.5 s on this small product
    # when the cores are busy, and the widgets recompute it on every change.
    return np.where(np.outer(varies, varies), np.einsum("ni,nj->ij", z, z) / len(x), 0.0)


def spatial_autocorrelation(activations, max_offset=4):
    """Spatial autocorrelation of the maps, ``(2R + 1, 2R + 1)`` indexed ``[dy + R, dx + R]``.

    For each image and channel the map is centred and correlated with itself
    shifted by ``(dy, dx)`` over the overlapping positions, normalised by its
    variance (1 at offset 0); the result is the average over all non-constant
    maps. ``R = max_offset`` must be smaller than the map's height and width.
    """
    a = _check_activations(activations)
    n, h, w, c = a.shape
    r = int(max_offset)
    if r != max_offset or not 0 <= r < min(h, w):
        raise ValueError(f"max_offset must be an integer in [0, {min(h, w) - 1}] "
                         f"for {h}x{w} maps; got {max_offset!r}")
    z = a - a.mean(axis=(1, 2), keepdims=True)
    size = (h + r, w + r)  # zero padding: lags up to r do not wrap around
    f = np.fft.rfft2(z, s=size, axes=(1, 2))
    ac = np.fft.irfft2(f * np.conj(f), s=size, axes=(1, 2))  # sums over overlaps, (N, h+r, w+r, C)
    lags = np.arange(-r, r + 1)
    ac = ac[:, lags % size[0]][:, :, lags % size[1]]
    overlap = np.outer(h - np.abs(lags), w - np.abs(lags))
    ac = ac / overlap[None, :, :, None]
    var = ac[:, r, r, :]
    keep = _varies(np.sqrt((z ** 2).mean(axis=(1, 2))), np.abs(a).max(axis=(1, 2)))
    if not keep.any():
        raise ValueError("activations are constant on every map; no spatial correlation to measure")
    maps = (ac / np.where(keep, var, 1.0)[:, None, None, :]).transpose(0, 3, 1, 2)
    return maps[keep].mean(axis=0)
