"""The widgets: one figure each, redrawn in place; refused states show a message, not a traceback."""
import gc
import io
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ipywidgets
import numpy as np
import psutil
import pytest
from matplotlib.figure import Figure
from PIL import Image

from convviz import widgets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import widget_latency  # noqa: E402  (the benchmark builds every widget on sample data)


def small_data():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:15, :15]
    return {
        "activations": {"a": rng.normal(size=(2, 6, 6, 4)), "b": rng.normal(size=(2, 4, 4, 8))},
        "kernel": rng.normal(size=(3, 3, 4, 6)),
        "image": (rng.random((20, 20, 3)) * 255).astype(np.uint8),
        "fields": {"2 layers": (np.exp(-((yy - 7) ** 2 + (xx - 7) ** 2) / 3.0), [(3, 1, 1)] * 2)},
        "tables": {"m": {"Conv 1x1": (3, 1), "Conv DW 3x3": (1, 3)}},
    }


@pytest.fixture(scope="module")
def all_widgets():
    return widget_latency.all_widgets(small_data())


def connections(widget):
    return [len(c.get_segments()) for c in widget.figure.findobj(lambda a: a.get_gid() == "connections")]


def test_every_widget_shows_its_own_figure_as_png(all_widgets):
    assert set(all_widgets) == {name for name in widgets.__all__ if name.endswith("_widget")}
    for name, widget in all_widgets.items():
        assert isinstance(widget, ipywidgets.VBox), name
        assert isinstance(widget.figure, Figure) and widget.controls, name
        assert all(isinstance(c, ipywidgets.ValueWidget) for c in widget.controls.values()), name
        assert widget.message.value == "", (name, widget.message.value)
        png = Image.open(io.BytesIO(widget.image.value))
        width, height = widget.figure.get_size_inches() * widget.figure.dpi
        assert png.size == (round(width), round(height)), name
        assert widget.children[-1] is widget.image


def test_render_sets_controls_and_draws_once():
    widget = widgets.segment_diagram_widget()
    calls = []
    draw = widget._draw
    widget._draw = lambda fig, **state: (calls.append(state), draw(fig, **state))
    figure = widget.figure
    assert widget.render(channels=12, segments=3, kernel_size=5) is figure
    assert calls == [{"channels": 12, "segments": 3, "kernel_size": 5}]
    assert widget.state == calls[0]
    assert connections(widget) == [144, 48, 12]
    assert "each 5×5 filter sees 4 of 12 channels\n1,200 params" in [
        t.get_text() for t in figure.findobj(lambda a: a.get_gid() == "segment-cost")]


def test_moving_a_slider_redraws_the_same_figure_with_new_data():
    widget = widgets.segment_diagram_widget()
    figure, before = widget.figure, widget.image.value
    widget.controls["segments"].value = 2
    assert widget.figure is figure and widget.image.value != before
    assert connections(widget) == [16 * 16, 16 * 16 // 2, 16]


def test_cost_comparison_widget_numbers_follow_the_controls():
    widget = widgets.cost_comparison_widget()
    widget.render(kernel_size=3, in_channels=512, filters=512, size=14)
    assert "separable / standard = 0.113" in widget.figure._suptitle.get_text()
    widget.controls["kernel_size"].value = 5
    assert f"paper's 1/N + 1/k² = {1 / 512 + 1 / 25:.3f}" in widget.figure._suptitle.get_text()


@pytest.mark.parametrize("name, state, message", [
    ("segment_diagram_widget", {"channels": 10, "segments": 4}, r"segments \(4\) must divide channels \(10\)"),
    ("branches_widget", {"filters": 30, "segments": 4}, "segments must divide the 30 channels"),
    ("receptive_field_widget", {"kernel_size": 1, "stride": 2}, "stride 2 skips input pixels"),
    ("receptive_field_widget", {"layers": 2, "show_layer": 5}, r"show layer \(5\) must be at most layers \(2\)"),
    ("filter_decomposition_widget", {"kernel_size": 1, "strides": 3}, "skip input"),
    ("cost_curves_widget", {"channels": 8, "alpha": 0.75, "segments": 4}, r"segments \(4\) must divide the 6"),
    ("correlation_widget", {"layer": "b", "max_offset": 5}, r"max_offset must be an integer in \[0, 3\]"),
])
def test_impossible_combinations_show_a_message(all_widgets, name, state, message):
    widget = all_widgets[name]
    good = widget.state
    assert widget.render(**state) is None
    assert widget.message.value.startswith("<span") and re.search(message, widget.message.value)
    assert widget.image.layout.display == "none"
    assert widget.render(**good) is widget.figure
    assert widget.message.value == "" and widget.image.layout.display is None


def test_render_validates_names_and_ranges():
    widget = widgets.cost_curves_widget()
    with pytest.raises(ValueError, match=r"unknown control\(s\) \['beta'\]; allowed: \['alpha'"):
        widget.render(beta=1)
    with pytest.raises(ValueError, match=r"alpha must be in \[0.25, 1.0\]; got 2"):
        widget.render(alpha=2)
    layer = widgets.correlation_widget({"x": np.ones((1, 4, 4, 2)) * np.arange(4)[:, None, None]})
    with pytest.raises(ValueError, match=r"layer must be one of \['x'\]; got 'y'"):
        layer.render(layer="y")


def test_options_enumerate_every_state():
    widget = widgets.cost_curves_widget()
    assert widget.options("segments") == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    alphas = widget.options("alpha")
    assert len(alphas) == 16 and alphas[0] == 0.25 and alphas[-1] == 1.0
    assert 0.3 in alphas and 0.7 in alphas  # exact decimals, no rounding noise
    assert widgets.effective_field_widget(small_data()["fields"]).options("stack") == ["2 layers"]


@pytest.mark.parametrize("factory, states", [
    # rebuilds its axes on every change
    ("segment_diagram_widget", [{"channels": c, "segments": g} for c, g in [(16, 4), (12, 3), (10, 4), (8, 8), (16, 2)]]),
    # updates its artists in place (and rebuilds them after a refused state)
    ("cost_curves_widget", [{"channels": c, "segments": g} for c, g in [(64, 4), (48, 16), (8, 16), (512, 2), (24, 8)]]),
])
def test_fifty_moves_keep_one_figure_and_stable_memory(factory, states):
    import matplotlib.pyplot as plt

    widget = getattr(widgets, factory)()

    def figures():
        gc.collect()
        return sum(isinstance(o, Figure) for o in gc.get_objects())

    for state in states * 2:  # warm caches (fonts, text layout)
        widget.render(**state)
    fignums, count = plt.get_fignums(), figures()
    objects, rss = len(gc.get_objects()), psutil.Process().memory_info().rss
    axes = len(widget.figure.axes)
    for i in range(50):
        name, value = ("channels", states[i % 5]["channels"]) if i % 2 else ("segments", states[i % 5]["segments"])
        widget.controls[name].value = value
    widget.render(**states[0])
    assert plt.get_fignums() == fignums and figures() == count and len(widget.figure.axes) == axes
    grown = len(gc.get_objects()) - objects
    assert abs(grown) < 0.01 * objects, f"{grown} more Python objects after 50 moves"
    assert psutil.Process().memory_info().rss - rss < 20_000_000


def test_latency_benchmark_measures_every_widget(all_widgets):
    for name, widget in all_widgets.items():
        steps = widget_latency.moves(widget, 4)
        assert len(steps) == 4 and all(name in widget.controls for name, _ in steps)
        drawn, refused = widget_latency.measure(widget, 4)
        assert len(drawn) + len(refused) == 4 and min(drawn + refused) > 0
    assert isinstance(widget_latency.memory_growth(all_widgets["cost_curves_widget"], 5), float)
