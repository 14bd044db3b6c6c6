"""Cross-channel and spatial correlations of a layer's activations (the Inception hypothesis).

Inception's bet is that the correlations across channels and the correlations
across space are separate enough to be learned by separate steps (1x1, then
spatial convolutions). These two functions measure both from activations of
shape ``(N, H, W, C)``.
"""
from __future__ import annotations

import numpy as np


# Work in slices of at most this many float64 values (64 MB), whatever the input's size:
# a layer's activations for a few hundred images are hundreds of MB as float64 already.
_CHUNK_VALUES = 8 * 2**20


def _check_activations(activations):
    a = np.asarray(activations)
    if a.ndim != 4:
        raise ValueError(f"activations must have shape (N, H, W, C); got {a.shape}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)
            or a.dtype == bool):
        a = np.asarray(a, dtype=float)  # raises for what is not numbers
    return a


def _rows_per_chunk(row_values: int) -> int:
    return max(1, _CHUNK_VALUES // max(1, row_values))


def _varies(std, scale):
    """Whether a channel/map varies beyond rounding: std above 1e-9 of its largest magnitude."""
    return std > 1e-9 * scale


def channel_correlation(activations):
    """Pearson correlation ``(C, C)`` between channels, over all images and positions.

    A constant channel has no correlation: its row and column are 0 (its diagonal too).
    """
    a = _check_activations(activations)
    x = a.reshape(-1, a.shape[-1])
    n, c = x.shape
    mean = x.mean(axis=0, dtype=np.float64)
    scatter = np.zeros((c, c))
    step = _rows_per_chunk(c)
    for start in range(0, n, step):  # float64 a slice at a time (bounded memory)
        xc = x[start:start + step].astype(np.float64) - mean
        # einsum, not xc.T @ xc: a multi-threaded BLAS can stall for ~0.5 s on this small
        # product when the cores are busy, and the widgets recompute it on every change.
        scatter += np.einsum("ni,nj->ij", xc, xc)
    std = np.sqrt(np.clip(np.diag(scatter) / n, 0.0, None))
    varies = _varies(std, np.abs(x).max(axis=0).astype(np.float64))
    safe = np.where(varies, std, 1.0)
    return np.where(np.outer(varies, varies), scatter / n / np.outer(safe, safe), 0.0)


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
    # A few images at a time (the FFTs work on padded complex copies); sum the kept maps.
    total, kept = np.zeros((2 * r + 1, 2 * r + 1)), 0
    step = _rows_per_chunk(4 * (h + r) * (w + r) * c)
    for start in range(0, n, step):
        maps = _autocorrelation_maps(a[start:start + step].astype(np.float64), r)
        total += maps.sum(axis=0)
        kept += len(maps)
    if not kept:
        raise ValueError("activations are constant on every map; no spatial correlation to measure")
    return total / kept


def _autocorrelation_maps(a, r):
    """The normalised autocorrelation ``(2r + 1, 2r + 1)`` of every non-constant map of ``a``."""
    n, h, w, c = a.shape
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
    maps = (ac / np.where(keep, var, 1.0)[:, None, None, :]).transpose(0, 3, 1, 2)
    return maps[keep]
