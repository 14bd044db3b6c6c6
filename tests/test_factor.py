"""Core math of filter factorisation (convviz.core.factor) and of the correlation split
(convviz.core.correlation), checked against brute force and closed forms."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convviz.core import correlation, factor


def brute_implied(d, p):
    k, _, c_in, m = d.shape
    out = np.zeros((k, k, c_in, p.shape[1]))
    for i in range(k):
        for j in range(k):
            for c in range(c_in):
                for mm in range(m):
                    out[i, j, c] += d[i, j, c, mm] * p[c * m + mm]
    return out


def conv_valid(x, kernel):
    """Plain 'valid' convolution (cross-correlation) of x (H, W, C) with (k, k, C, O)."""
    k = kernel.shape[0]
    h, w = x.shape[0] - k + 1, x.shape[1] - k + 1
    return np.array([[np.einsum("ijc,ijco->o", x[y:y + k, v:v + k], kernel) for v in range(w)]
                     for y in range(h)])


@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 4), c_in=st.integers(1, 4), m=st.integers(1, 3), c_out=st.integers(1, 4),
       seed=st.integers(0, 2 ** 16))
def test_implied_kernel_matches_its_definition(k, c_in, m, c_out, seed):
    rng = np.random.default_rng(seed)
    d, p = rng.normal(size=(k, k, c_in, m)), rng.normal(size=(c_in * m, c_out))
    np.testing.assert_allclose(factor.implied_kernel(d, p), brute_implied(d, p), atol=1e-12)
    np.testing.assert_allclose(factor.implied_kernel(d, p[None, None]), brute_implied(d, p))


def test_implied_kernel_computes_what_depthwise_then_pointwise_computes():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 7, 3))
    d, p = rng.normal(size=(3, 3, 3, 2)), rng.normal(size=(6, 4))
    depthwise = np.stack([conv_valid(x[:, :, c:c + 1], d[:, :, c:c + 1, m:m + 1])[..., 0]
                          for c in range(3) for m in range(2)], axis=-1)  # channel c * M + m
    two_steps = depthwise @ p
    np.testing.assert_allclose(conv_valid(x, factor.implied_kernel(d, p)), two_steps, atol=1e-12)


def test_implied_kernel_rejects_mismatched_pointwise():
    with pytest.raises(ValueError, match=r"pointwise must have shape \(C_in \* M, C_out\) = \(6"):
        factor.implied_kernel(np.zeros((3, 3, 3, 2)), np.zeros((5, 4)))


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 5), m=st.integers(1, 4),
       seed=st.integers(0, 2 ** 16))
def test_approximation_is_optimal_and_matches_error_curve(k, c_in, c_out, m, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(k, k, c_in, c_out))
    d, p = factor.separable_approximation(w, m)
    assert d.shape == (k, k, c_in, m) and p.shape == (c_in * m, c_out)
    err = np.linalg.norm(w - factor.implied_kernel(d, p)) / np.linalg.norm(w)
    _, curve = factor.error_curve(w, [m])
    assert err == pytest.approx(curve[0], abs=1e-9)
    # No random pair of the same multiplier beats it (Eckart-Young), and a local nudge does not either.
    for _ in range(5):
        d2 = d + 1e-3 * rng.normal(size=d.shape)
        p2 = p + 1e-3 * rng.normal(size=p.shape)
        assert np.linalg.norm(w - factor.implied_kernel(d2, p2)) >= np.linalg.norm(w - factor.implied_kernel(d, p)) - 1e-12


def test_error_curve_decreases_to_exact():
    w = np.random.default_rng(2).normal(size=(3, 3, 4, 5))
    ms, errors = factor.error_curve(w)
    assert list(ms) == [1, 2, 3, 4, 5]          # min(k * k, C_out) = 5
    assert np.all(np.diff(errors) < 0) and 0 < errors[0] < 1
    assert errors[-1] == pytest.approx(0, abs=1e-12)
    d, p = factor.separable_approximation(w, 7)  # beyond the rank: zero padding, still exact
    np.testing.assert_allclose(factor.implied_kernel(d, p), w, atol=1e-12)
    assert np.all(d[..., 5:] == 0)


def test_rank_one_slices_are_recovered_with_multiplier_one():
    rng = np.random.default_rng(3)
    d, p = rng.normal(size=(3, 3, 4, 1)), rng.normal(size=(4, 6))
    w = factor.implied_kernel(d, p)
    assert factor.error_curve(w, [1])[1][0] == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(factor.implied_kernel(*factor.separable_approximation(w, 1)), w, atol=1e-12)


@pytest.mark.parametrize("bad", [0, 1.5, -2])
def test_depth_multiplier_is_validated(bad):
    with pytest.raises(ValueError, match="depth_multiplier must be an integer >= 1"):
        factor.separable_approximation(np.ones((3, 3, 2, 2)), bad)


def test_kernel_shape_is_validated():
    with pytest.raises(ValueError, match=r"kernel must have shape \(k, k, C_in, C_out\)"):
        factor.error_curve(np.ones((3, 3, 2)))


# --- convviz.core.correlation -------------------------------------------------------------

def brute_autocorrelation(a, r):
    n, h, w, c = a.shape
    total, count = np.zeros((2 * r + 1, 2 * r + 1)), 0
    for i in range(n):
        for ch in range(c):
            z = a[i, :, :, ch] - a[i, :, :, ch].mean()
            if z.std() <= 1e-9 * np.abs(a[i, :, :, ch]).max():
                continue
            count += 1
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    first = z[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
                    second = z[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
                    total[dy + r, dx + r] += (first * second).mean() / z.var()
    return total / count


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(2, 7), w=st.integers(2, 7), c=st.integers(1, 3),
       seed=st.integers(0, 2 ** 16), data=st.data())
def test_spatial_autocorrelation_matches_brute_force(n, h, w, c, seed, data):
    r = data.draw(st.integers(0, min(h, w) - 1))
    a = np.random.default_rng(seed).normal(size=(n, h, w, c))
    got = correlation.spatial_autocorrelation(a, r)
    assert got.shape == (2 * r + 1, 2 * r + 1)
    np.testing.assert_allclose(got, brute_autocorrelation(a, r), atol=1e-10)
    assert got[r, r] == pytest.approx(1.0)


def test_spatial_autocorrelation_of_smooth_and_white_maps():
    rng = np.random.default_rng(4)
    white = rng.normal(size=(8, 24, 24, 4))
    smooth = white + np.roll(white, 1, axis=2)  # neighbours along x share a term: rho = 1/2
    ac_white = correlation.spatial_autocorrelation(white, 2)
    ac_smooth = correlation.spatial_autocorrelation(smooth, 2)
    assert np.abs(ac_white - np.eye(5)[2][:, None] * np.eye(5)[2]).max() < 0.05
    assert ac_smooth[2, 3] == pytest.approx(0.5, abs=0.05)   # (dy, dx) = (0, 1)
    assert ac_smooth[3, 2] == pytest.approx(0.0, abs=0.05)   # (1, 0): no shared term


def test_spatial_autocorrelation_skips_constant_maps_and_validates():
    a = np.random.default_rng(5).normal(size=(2, 6, 6, 2))
    with_constant = np.concatenate([a, np.full((2, 6, 6, 1), 0.1)], axis=-1)
    np.testing.assert_allclose(correlation.spatial_autocorrelation(with_constant, 2),
                               correlation.spatial_autocorrelation(a, 2))
    with pytest.raises(ValueError, match=r"max_offset must be an integer in \[0, 5\]"):
        correlation.spatial_autocorrelation(a, 6)
    with pytest.raises(ValueError, match="constant"):
        correlation.spatial_autocorrelation(np.ones((1, 4, 4, 2)), 1)
    with pytest.raises(ValueError, match=r"activations must have shape \(N, H, W, C\)"):
        correlation.spatial_autocorrelation(np.ones((4, 4, 2)), 1)


def test_channel_correlation():
    rng = np.random.default_rng(6)
    base = rng.normal(size=(5, 8, 8, 1))
    noise = rng.normal(size=(5, 8, 8, 1))
    a = np.concatenate([base, 3 * base + 1, -base, noise, np.full_like(base, 2.0)], axis=-1)
    corr = correlation.channel_correlation(a)
    np.testing.assert_allclose(corr[0, :3], [1, 1, -1], atol=1e-12)
    np.testing.assert_allclose(corr, corr.T)
    np.testing.assert_allclose(corr[4], 0)  # constant channel
    flat = a[..., :4].reshape(-1, 4)
    np.testing.assert_allclose(corr[:4, :4], np.corrcoef(flat.T), atol=1e-12)


def test_correlations_are_the_same_computed_a_slice_at_a_time(monkeypatch):
    """Large activations are processed in bounded slices; the figures must not depend on it."""
    rng = np.random.default_rng(7)
    a = (rng.normal(size=(6, 9, 9, 5)) + rng.normal(size=(6, 1, 1, 5))).astype(np.float32)
    whole_corr = correlation.channel_correlation(a)
    whole_auto = correlation.spatial_autocorrelation(a, 3)
    x = a.reshape(-1, 5).astype(np.float64)
    np.testing.assert_allclose(whole_corr, np.corrcoef(x, rowvar=False), atol=1e-12)
    monkeypatch.setattr(correlation, "_CHUNK_VALUES", 7)  # a row or an image per slice
    np.testing.assert_allclose(correlation.channel_correlation(a), whole_corr, atol=1e-12)
    np.testing.assert_allclose(correlation.spatial_autocorrelation(a, 3), whole_auto, atol=1e-12)
