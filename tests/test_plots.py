"""The renderers: what each picture draws where, and which numbers its texts show.

Image comparisons guard three main figures against baselines in tests/baseline/.
Regenerate them after an intended change of a picture with

    CONVVIZ_UPDATE_BASELINES=1 pytest tests/test_plots.py -k baseline

and look at the new PNGs before committing them.
"""
import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.testing.compare import compare_images
from matplotlib.text import Text

from convviz import plots
from convviz.core import correlation, costs, factor, spectrum
from convviz.core.receptive import closed_form
from convviz.plots._common import count, kernel_mosaic

BASELINES = Path(__file__).parent / "baseline"


def by_gid(fig, gid):
    return fig.findobj(lambda a: a.get_gid() == gid)


def texts(fig):
    return " | ".join(t.get_text() for t in fig.findobj(Text))


def test_importing_plots_and_widgets_loads_neither_tensorflow_nor_pyplot():
    code = ("import sys, convviz.plots, convviz.widgets; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras') "
            "or m == 'matplotlib.pyplot'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- decomposition -------------------------------------------------------------------------

@pytest.mark.parametrize("c_in, filters, k, m", [(16, 32, 3, 1), (3, 2, 5, 2)])
def test_filter_decomposition_counts_come_from_costs(c_in, filters, k, m):
    shape = (32, 32, c_in)
    fig = plots.filter_decomposition(shape, filters, k, m)
    assert isinstance(fig, Figure)
    std = costs.conv2d(shape, filters, k, use_bias=False)
    dw, pw = costs.separable_parts(shape, filters, k, depth_multiplier=m, use_bias=False)
    for gid, cost in (("standard-cost", std), ("depthwise-cost", dw), ("pointwise-cost", pw)):
        (text,) = by_gid(fig, gid)
        assert text.get_text() == f"params {count(cost.params)}\nmult-adds {count(cost.mult_adds)}"
    assert len(by_gid(fig, "standard")) == min(filters, 4)
    assert len(by_gid(fig, "depthwise")) == min(c_in * m, 4)
    assert len(by_gid(fig, "pointwise")) == min(filters, 4)
    assert f"{count(filters)} filters of {k}×{k}×{count(c_in)}" in texts(fig)
    assert f"{count(c_in * m)} filters of {k}×{k}×1" + (f" ({m} per channel)" if m > 1 else "") in texts(fig)
    ratio = (dw.params + pw.params) / std.params
    assert f"{count(dw.params + pw.params)} params ({ratio:.3f}×)" in fig._suptitle.get_text()


def test_kernel_mosaic_layout():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 5))
    mosaic = kernel_mosaic(kernel)
    assert mosaic.shape == (5 * 4 - 1, 4 * 4 - 1)
    for i, j, c, o in [(0, 0, 0, 0), (2, 1, 3, 4), (1, 2, 2, 1)]:
        assert mosaic[o * 4 + i, c * 4 + j] == kernel[i, j, c, o]
    assert np.isnan(mosaic[3]).all() and np.isnan(mosaic[:, 3]).all()


def test_implied_kernel_draws_the_product():
    rng = np.random.default_rng(1)
    d, p = rng.normal(size=(3, 3, 4, 2)), rng.normal(size=(8, 6))
    fig = plots.implied_kernel(d, p)
    ax_d, ax_p, ax_k = fig.axes[:3]
    np.testing.assert_array_equal(ax_d.images[0].get_array().filled(np.nan), kernel_mosaic(d))
    np.testing.assert_array_equal(ax_p.images[0].get_array(), p)
    np.testing.assert_allclose(ax_k.images[0].get_array().filled(np.nan),
                               kernel_mosaic(factor.implied_kernel(d, p)))
    assert ax_k.get_title() == "implied K  3×3×4×6"


def test_separable_fit_shows_approximation_and_error_curve():
    w = np.random.default_rng(2).normal(size=(3, 3, 10, 12))
    fig = plots.separable_fit(w, 3, max_channels=8, max_filters=8)
    ax_w, ax_a, ax_e = fig.axes[:3]
    np.testing.assert_array_equal(ax_w.images[0].get_array().filled(np.nan), kernel_mosaic(w[:, :, :8, :8]))
    approx = factor.implied_kernel(*factor.separable_approximation(w, 3))
    np.testing.assert_allclose(ax_a.images[0].get_array().filled(np.nan), kernel_mosaic(approx[:, :, :8, :8]))
    ms, errors = factor.error_curve(w)
    (curve,) = by_gid(fig, "error-curve")
    np.testing.assert_array_equal(curve.get_xdata(), ms)
    np.testing.assert_allclose(curve.get_ydata(), errors)
    (chosen,) = by_gid(fig, "chosen")
    assert chosen.get_xdata()[0] == 3 and chosen.get_ydata()[0] == pytest.approx(errors[2])
    params = costs.separable_conv2d((32, 32, 10), 12, 3, depth_multiplier=3, use_bias=False).params
    assert fig._suptitle.get_text() == (f"M = 3: relative error {errors[2]:.3f} with {count(params)} "
                                        f"params (standard {count(27 * 40)})")


# --- correlation split and segments ---------------------------------------------------------

def test_correlation_split_draws_both_correlations():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 12, 12, 6))
    a = x + np.roll(x, 1, axis=2)
    fig = plots.correlation_split(a, 3)
    ax_c, ax_s = fig.axes[:2]
    corr, auto = correlation.channel_correlation(a), correlation.spatial_autocorrelation(a, 3)
    np.testing.assert_allclose(ax_c.images[0].get_array(), corr)
    np.testing.assert_allclose(ax_s.images[0].get_array(), auto)
    assert ax_s.images[0].get_extent() == [-3.5, 3.5, 3.5, -3.5]
    across = np.abs(corr[~np.eye(6, dtype=bool)]).mean()
    near = np.mean([auto[2, 3], auto[4, 3], auto[3, 2], auto[3, 4]])
    assert ax_c.get_title() == f"across channels: mean |r| = {across:.2f}"
    assert ax_s.get_title() == f"across space: r at distance 1 = {near:.2f}"


@pytest.mark.parametrize("channels, segments", [(12, 3), (8, 1), (6, 6)])
def test_segment_diagram_connects_each_filter_to_its_segment(channels, segments):
    fig = plots.segment_diagram(channels, segments, kernel_size=3)
    collections = by_gid(fig, "connections")
    groups = [1, segments, channels]
    assert [len(c.get_segments()) for c in collections] == [channels ** 2 // g for g in groups]
    middle = collections[1].get_segments()
    size = channels // segments
    for (c, _), (o, _) in [tuple(seg) for seg in middle]:
        assert int(round(c)) // size == int(round(o)) // size  # a filter sees only its segment
    labels = [t.get_text() for t in by_gid(fig, "segment-cost")]
    assert labels == [f"each 3×3 filter sees {channels // g} of {channels} channels\n"
                      f"{count(9 * channels * channels // g)} params" for g in groups]


def test_segment_diagram_refuses_segments_that_do_not_divide():
    with pytest.raises(ValueError, match=r"segments \(4\) must divide channels \(10\); allowed: \[1, 2, 5, 10\]"):
        plots.segment_diagram(10, 4)


def test_branches_and_grouped_forms_cost_the_same():
    shape, filters, g = (16, 16, 24), 32, 8
    fig = plots.branches_vs_grouped(shape, filters, g)
    grouped = spectrum.segment_costs(shape, filters, 3, g, use_bias=False)
    ax_b, ax_g = fig.axes
    numbers = f"params {count(grouped.params)}, mult-adds {count(grouped.mult_adds)}"
    assert ax_b.get_title().endswith(numbers) and ax_g.get_title().endswith(numbers)
    assert grouped.params == 24 * 32 + 9 * 32 * 4  # one 1x1, then 3x3 over groups of 4
    assert fig._suptitle.get_text() == "the same computation, the same cost"
    assert len(by_gid(fig, "branch")) == len(by_gid(fig, "group")) == len(by_gid(fig, "segment")) == 4
    with pytest.raises(ValueError, match="segments must divide the 32 channels"):
        plots.branches_vs_grouped(shape, filters, 5)


def test_extreme_inception_marks_two_differences_and_costs():
    fig = plots.extreme_inception((8, 8, 16), 32, 3)
    ax_e, _, ax_s = fig.axes
    extreme = spectrum.segment_costs((8, 8, 16), 32, 3, 32, use_bias=False)
    separable = costs.separable_conv2d((8, 8, 16), 32, 3, use_bias=False)
    assert ax_e.get_title() == f"extreme Inception\nparams {count(extreme.params)}, mult-adds {count(extreme.mult_adds)}"
    assert ax_s.get_title() == (f"depthwise separable\nparams {count(separable.params)}, "
                                f"mult-adds {count(separable.mult_adds)}")
    marks = [t.get_text() for t in by_gid(fig, "difference")]
    assert marks == ["① order:\n1×1 first  |  3×3 first", "② between the steps:\nReLU  |  nothing"]
    assert "ReLU" in texts(ax_e) and "no activation" in texts(ax_s)


# --- receptive fields ----------------------------------------------------------------------

def test_receptive_field_growth_windows_and_footprint():
    layers = [(3, 1, 1), (3, 2, 1), (3, 1, 2)]
    image = np.zeros((24, 24, 3), np.uint8)
    fig = plots.receptive_field_growth(layers, image)
    ax_img, ax_grid = fig.axes
    for l in range(1, 4):
        size = closed_form([k for k, _, _ in layers[:l]], [s for _, s, _ in layers[:l]],
                           [d for _, _, d in layers[:l]]).size
        rects = by_gid(fig, f"window-{l}")
        assert len(rects) == 2  # over the image and over the grid
        assert {(r.get_width(), r.get_height()) for r in rects} == {(size, size)}
    assert by_gid(fig, "window-3")[0].get_width() == 1 + 2 + 2 * 1 + 2 * 2 * 2
    mask = ax_grid.images[0].get_array()
    assert mask.sum() == 13 * 13  # no holes: strides and dilations cover the window
    assert ax_grid.get_title() == "input grid: 169 pixels reached by layer 3"


def test_receptive_field_growth_shows_dilation_holes_and_refuses_skipping_strides():
    fig = plots.receptive_field_growth([(3, 1, 3)], input_size=(9, 9))
    mask = fig.axes[0].images[0].get_array()
    ys, xs = np.nonzero(mask)
    assert sorted(set(ys)) == sorted(set(xs)) == [1, 4, 7]  # centre 4, taps 3 apart
    with pytest.raises(ValueError, match=r"layer 2: stride 3 skips input pixels \(its kernel spans 2\)"):
        plots.receptive_field_growth([(3, 1, 1), (2, 3, 1)])
    with pytest.raises(ValueError, match=r"depth must be in \[1, 1\]"):
        plots.receptive_field_growth([(3, 1, 1)], depth=2)


def test_receptive_field_vs_depth_lines_and_parameters():
    fig = plots.receptive_field_vs_depth(6, (3, 5, 7), channels=16)
    for k in (3, 5, 7):
        (field,) = by_gid(fig, f"field-{k}")
        np.testing.assert_array_equal(field.get_ydata(), [1 + n * (k - 1) for n in range(1, 7)])
        (params,) = by_gid(fig, f"params-{k}")
        np.testing.assert_array_equal(params.get_xdata(), field.get_ydata())
        np.testing.assert_array_equal(params.get_ydata(), [n * k * k * 16 * 16 for n in range(1, 7)])
    assert fig._suptitle.get_text() == (f"7×7 field: 3 layers of 3×3 = {count(27 * 256)} params, "
                                        f"1 layer of 7×7 = {count(49 * 256)}")


def test_theoretical_vs_effective_sizes():
    erf = np.zeros((21, 21))
    erf[8:13, 8:13] = 1.0  # all the gradient in the central 5x5
    fig = plots.theoretical_vs_effective(erf, [(3, 1, 1)] * 4)
    (theory,) = by_gid(fig, "theoretical")
    (effective,) = by_gid(fig, "effective")
    assert (theory.get_width(), theory.get_xy()) == (9, (5.5, 5.5))
    assert effective.get_width() == 5
    assert fig._suptitle.get_text() == "theoretical field 9×9 px; 95% of the gradient within 5×5 px"


# --- costs ---------------------------------------------------------------------------------

def test_layer_cost_table_bars_are_shares():
    table = {"Conv 1x1": (300, 10), "Conv DW 3x3": (100, 30)}
    fig = plots.layer_cost_table(table)
    widths = [[bar.get_width() for bar in by_gid(fig, f"bars-{name}")] for name in ("mult-adds", "parameters")]
    assert widths == [[75.0, 25.0], [25.0, 75.0]]
    for label in ("75.00%", "25.00%", "mult-adds: 400 in all", "parameters: 40 in all"):
        assert label in texts(fig)


def test_cost_comparison_bars():
    shape = (14, 14, 512)
    fig = plots.cost_comparison(shape, 512, 3)
    cmp = costs.standard_vs_separable(shape, 512, 3, use_bias=False)
    for field in ("params", "mult_adds"):
        assert by_gid(fig, f"{field}-standard")[0].get_height() == getattr(cmp["standard"], field)
        assert by_gid(fig, f"{field}-depthwise")[1].get_height() == getattr(cmp["depthwise"], field)
        pointwise = by_gid(fig, f"{field}-pointwise")[1]
        assert (pointwise.get_y(), pointwise.get_height()) == (getattr(cmp["depthwise"], field),
                                                               getattr(cmp["pointwise"], field))
    assert f"paper's 1/N + 1/k² = {1 / 512 + 1 / 9:.3f}" in fig._suptitle.get_text()


def test_cost_curves_mark_the_choice():
    shape = (16, 16, 64)
    fig = plots.cost_curves(shape, 64, 3, alpha=0.5, rho=0.5, segments=4)
    base = costs.separable_conv2d(shape, 64, 3, use_bias=False)
    half = costs.separable_conv2d((8, 8, 32), 32, 3, use_bias=False)
    (alpha_now,) = by_gid(fig, "alpha-current")
    np.testing.assert_allclose(alpha_now.get_ydata(), [half.mult_adds / base.mult_adds,
                                                       half.params / base.params])
    (rho_params,) = by_gid(fig, "rho-params")
    np.testing.assert_allclose(rho_params.get_ydata(), costs.separable_conv2d(
        (16, 16, 32), 32, 3, use_bias=False).params / base.params)  # rho leaves parameters alone
    points = spectrum.spectrum((8, 8, 32), 32, 3, use_bias=False)
    (curve,) = by_gid(fig, "segments-mult-adds")
    np.testing.assert_array_equal(curve.get_xdata(), [1, 2, 4, 8, 16, 32])
    np.testing.assert_allclose(curve.get_ydata(), [p.mult_adds / points[0].mult_adds for p in points])
    (now,) = by_gid(fig, "segments-current")
    assert now.get_xdata()[0] == 4
    with pytest.raises(ValueError, match=r"segments \(3\) must divide the 32 filters at alpha=0.5"):
        plots.cost_curves(shape, 64, 3, alpha=0.5, segments=3)


def test_renderers_draw_into_a_given_figure():
    fig = Figure(figsize=(9, 3.6))
    assert plots.segment_diagram(8, 2, fig=fig) is fig
    first = len(fig.axes)
    assert plots.segment_diagram(8, 4, fig=fig) is fig
    assert len(fig.axes) == first  # cleared, not stacked


# --- image comparisons ---------------------------------------------------------------------

def _baseline_figures():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:24, :24]
    image = np.stack([yy * 10, xx * 10, np.full_like(yy, 120)], axis=-1).astype(np.uint8)
    return {
        "filter_decomposition": lambda: plots.filter_decomposition((32, 32, 16), 32, 3),
        "segment_diagram": lambda: plots.segment_diagram(12, 3),
        "receptive_field_growth": lambda: plots.receptive_field_growth(
            [(3, 1, 1), (3, 2, 1), (3, 1, 2)], image),
        "separable_fit": lambda: plots.separable_fit(rng.normal(size=(3, 3, 6, 8)), 2),
    }


@pytest.mark.parametrize("name", sorted(_baseline_figures()))
def test_baseline_images(name, tmp_path):
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "figure.dpi": 72}):
        fig = _baseline_figures()[name]()
        actual = tmp_path / f"{name}.png"
        fig.savefig(actual, dpi=72)
    expected = BASELINES / f"{name}.png"
    if os.environ.get("CONVVIZ_UPDATE_BASELINES") == "1":
        BASELINES.mkdir(exist_ok=True)
        expected.write_bytes(actual.read_bytes())
        pytest.skip(f"baseline {expected.name} written")
    assert expected.exists(), f"no baseline {expected}; run with CONVVIZ_UPDATE_BASELINES=1 to write it"
    result = compare_images(str(expected), str(actual), tol=5)
    assert result is None, result


def test_redrawing_in_place_matches_a_fresh_figure():
    """cost_curves and branches_vs_grouped update their artists in a reused figure: the
    data must be what a fresh figure shows, and a cleared figure must be rebuilt."""
    fig = Figure(figsize=(10, 3.4))
    plots.cost_curves((16, 16, 64), 64, 3, alpha=1.0, rho=1.0, segments=2, fig=fig)
    axes = list(fig.axes)
    plots.cost_curves((8, 8, 48), 48, 5, alpha=0.5, rho=0.75, segments=8, fig=fig)
    assert fig.axes == axes  # the same three panels, updated
    fresh = plots.cost_curves((8, 8, 48), 48, 5, alpha=0.5, rho=0.75, segments=8)
    for gid in ("alpha-mult-adds", "rho-params", "rho-current", "segments-mult-adds", "segments-current"):
        (mine,), (theirs,) = by_gid(fig, gid), by_gid(fresh, gid)
        np.testing.assert_allclose(mine.get_xydata(), theirs.get_xydata())
    assert texts(fig) == texts(fresh)
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()] == ["1", "3", "6", "8", "24"]

    fig = Figure(figsize=(10, 4))
    plots.branches_vs_grouped((32, 32, 64), 32, 4, fig=fig)
    plots.branches_vs_grouped((16, 16, 48), 24, 3, kernel_size=5, fig=fig)  # fewer boxes: rebuilt
    plots.branches_vs_grouped((16, 16, 48), 24, 2, kernel_size=5, fig=fig)
    plots.branches_vs_grouped((16, 16, 48), 48, 2, kernel_size=5, fig=fig)  # same layout: updated
    fresh = plots.branches_vs_grouped((16, 16, 48), 48, 2, kernel_size=5)
    assert texts(fig) == texts(fresh) and "input 32×32×64" not in texts(fig)
    assert len(by_gid(fig, "branch")) == len(by_gid(fig, "group")) == 2
    fig.clear()  # what a widget does on a refused state
    assert plots.branches_vs_grouped((16, 16, 48), 48, 2, fig=fig) is fig
    assert len(fig.axes) == 2 and len(by_gid(fig, "segment")) == 2


def test_receptive_depth_redrawn_in_place_matches_a_fresh_figure():
    fig = Figure(figsize=(9, 3.6))
    plots.receptive_field_vs_depth(12, (3, 5, 7), 256, fig=fig)
    axes = list(fig.axes)
    plots.receptive_field_vs_depth(4, (3, 5, 7), 32, fig=fig)
    fresh = plots.receptive_field_vs_depth(4, (3, 5, 7), 32)
    assert fig.axes == axes and texts(fig) == texts(fresh)
    for gid in ("field-3", "field-7", "params-5"):
        (mine,), (theirs,) = by_gid(fig, gid), by_gid(fresh, gid)
        np.testing.assert_array_equal(mine.get_xydata(), theirs.get_xydata())
    for ax, other in zip(fig.axes, fresh.axes):  # rescaled to the new data
        np.testing.assert_allclose(ax.get_xlim(), other.get_xlim())
        np.testing.assert_allclose(ax.get_ylim(), other.get_ylim())
