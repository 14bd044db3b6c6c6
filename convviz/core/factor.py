"""Filter factorisation: a standard kernel versus a depthwise + pointwise pair.

Shapes follow Keras:

- standard kernel ``W``: ``(k, k, C_in, C_out)``
- depthwise kernel ``D``: ``(k, k, C_in, M)`` (``M`` is the depth multiplier)
- pointwise kernel ``P``: ``(C_in * M, C_out)`` (a ``(1, 1, C_in * M, C_out)`` kernel is accepted too)

The depthwise step writes channel ``c * M + m`` from input channel ``c``, so the
pair computes the same thing as one standard convolution with the kernel
``K[i, j, c, o] = sum_m D[i, j, c, m] * P[c * M + m, o]`` (:func:`implied_kernel`).

Conversely, for a given ``W`` the best pair with depth multiplier ``M`` (least
squares) splits over input channels: the slice ``W[:, :, c, :]``, reshaped to a
``(k * k, C_out)`` matrix, is approximated by its rank-``M`` truncated SVD, whose
two factors are exactly ``D[:, :, c, :]`` and ``P[c * M:(c + 1) * M, :]``
(Eckart-Young). :func:`error_curve` gives the error for every ``M`` from the
singular values alone.
"""
from __future__ import annotations

import numpy as np


def _check_kernel(kernel, name="kernel"):
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 4 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"{name} must have shape (k, k, C_in, C_out); got {kernel.shape}")
    return kernel


def _check_multiplier(depth_multiplier):
    if int(depth_multiplier) != depth_multiplier or depth_multiplier < 1:
        raise ValueError(f"depth_multiplier must be an integer >= 1; got {depth_multiplier!r}")
    return int(depth_multiplier)


def implied_kernel(depthwise, pointwise):
    """The standard kernel ``(k, k, C_in, C_out)`` that a depthwise + pointwise pair computes."""
    depthwise = np.asarray(depthwise, dtype=float)
    pointwise = np.asarray(pointwise, dtype=float)
    if depthwise.ndim != 4:
        raise ValueError(f"depthwise must have shape (k, k, C_in, M); got {depthwise.shape}")
    k1, k2, c_in, m = depthwise.shape
    if pointwise.ndim == 4 and pointwise.shape[:2] == (1, 1):
        pointwise = pointwise[0, 0]
    if pointwise.ndim != 2 or pointwise.shape[0] != c_in * m:
        raise ValueError(
            f"pointwise must have shape (C_in * M, C_out) = ({c_in * m}, C_out) for a depthwise "
            f"kernel of shape {depthwise.shape}; got {pointwise.shape}")
    p = pointwise.reshape(c_in, m, -1)  # row c * M + m  ->  [c, m]
    return np.einsum("ijcm,cmo->ijco", depthwise, p)


def separable_approximation(kernel, depth_multiplier=1):
    """Least-squares depthwise + pointwise pair for a standard kernel.

    Returns ``(depthwise, pointwise)`` with shapes ``(k, k, C_in, M)`` and
    ``(C_in * M, C_out)``. The singular values go into the depthwise factor; when
    ``M`` exceeds a slice's rank the extra factors are zero and the pair is exact.
    """
    kernel = _check_kernel(kernel)
    m = _check_multiplier(depth_multiplier)
    k, _, c_in, c_out = kernel.shape
    slices = kernel.transpose(2, 0, 1, 3).reshape(c_in, k * k, c_out)
    u, s, vt = np.linalg.svd(slices, full_matrices=False)  # (C, kk, r), (C, r), (C, r, Cout)
    r = min(m, s.shape[1])
    depthwise = np.zeros((c_in, k * k, m))
    pointwise = np.zeros((c_in, m, c_out))
    depthwise[:, :, :r] = u[:, :, :r] * s[:, None, :r]
    pointwise[:, :r, :] = vt[:, :r, :]
    depthwise = depthwise.reshape(c_in, k, k, m).transpose(1, 2, 0, 3)
    return depthwise, pointwise.reshape(c_in * m, c_out)


def error_curve(kernel, depth_multipliers=None):
    """Relative reconstruction error ``||W - K_M|| / ||W||`` (Frobenius) of the best pair per ``M``.

    ``depth_multipliers`` defaults to ``1 .. min(k * k, C_out)``, the last of
    which is exact. Returns ``(depth_multipliers, errors)`` as numpy arrays.
    """
    kernel = _check_kernel(kernel)
    k, _, c_in, c_out = kernel.shape
    s = np.linalg.svd(kernel.transpose(2, 0, 1, 3).reshape(c_in, k * k, c_out), compute_uv=False)
    if depth_multipliers is None:
        depth_multipliers = np.arange(1, s.shape[1] + 1)
    ms = np.array([_check_multiplier(m) for m in depth_multipliers], dtype=int)
    energy = (s ** 2).sum(axis=0)  # per singular index, summed over channels
    total = energy.sum()
    if total == 0:
        return ms, np.zeros(len(ms))
    tail = np.concatenate([np.cumsum(energy[::-1])[::-1], [0.0]])  # tail[m] = energy beyond rank m
    return ms, np.sqrt(tail[np.minimum(ms, len(energy))] / total)
