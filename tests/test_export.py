"""Lecture export: self-contained HTML per widget, GIFs, and the lecture notebook's static pictures."""
import base64
import io
import itertools
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

from convviz import export, widgets

ROOT = Path(__file__).resolve().parents[1]
LECTURE = ROOT / "notebooks" / "lecture.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class Page(HTMLParser):
    """The controls, images and the embedded state table of an exported page."""

    def __init__(self, text):
        super().__init__()
        self.ranges, self.selects, self.scripts, self.srcs = {}, {}, [], []
        self._select = self._script = None
        self.feed(text)
        self.data = json.loads(next(s for kind, s in self.scripts if kind == "application/json"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "range":
            self.ranges[attrs["name"]] = attrs
        elif tag == "select":
            self._select = self.selects.setdefault(attrs["name"], [])
        elif tag == "option" and self._select is not None:
            self._select.append(attrs["value"])
        elif tag == "script":
            self._script = [attrs.get("type", "text/javascript"), ""]
        if "src" in attrs or "href" in attrs:
            self.srcs.append((tag, attrs.get("src") or attrs.get("href")))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "script":
            self.scripts.append(tuple(self._script))
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script[1] += data


def pixels(png) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def decoded(uri) -> bytes:
    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.split(",", 1)[1])


SEGMENTS_GRID = {"channels": [8, 12], "segments": [1, 2, 3, 4, 8], "kernel_size": [3]}


@pytest.fixture(scope="module")
def segments_page(tmp_path_factory):
    widget = widgets.segment_diagram_widget()
    before = widget.state
    out = tmp_path_factory.mktemp("export") / "segments.html"
    assert export.export_html(widget, out, grid=SEGMENTS_GRID, title="Segments") == out
    assert widget.state == before  # the live widget is left as it was
    return widget, out


def test_one_image_per_drawn_state_and_the_message_for_each_refused_one(segments_page):
    widget, out = segments_page
    text = out.read_text()
    page = Page(text)
    names = list(widget.controls)
    expected = {}
    for picks in itertools.product(*(range(len(SEGMENTS_GRID[n])) for n in names)):
        state = {n: SEGMENTS_GRID[n][j] for n, j in zip(names, picks)}
        figure = widget.render(**state)
        message = re.sub(r"<[^>]+>", "", widget.message.value)
        expected[",".join(map(str, picks))] = (state, None if figure is None else widget.image.value, message)
    drawn = [k for k, (_, png, _) in expected.items() if png is not None]
    refused = [k for k in expected if k not in drawn]
    assert len(drawn) == 8 and len(refused) == 2  # 3 segments of 8 channels, 8 segments of 12
    assert text.count("data:image/png;base64,") == len(drawn) == len(page.data["images"])

    states = page.data["states"]
    assert set(states) == set(expected)
    assert sorted(states[k] for k in drawn) == list(range(len(drawn)))  # each picture once
    for key in refused:
        assert states[key] == expected[key][2] and "must divide" in states[key]
    for key in drawn:
        # the picture stored for a key is that state's figure (palette PNG: close, not equal)
        mine = pixels(decoded(page.data["images"][states[key]]))
        assert np.abs(mine - pixels(expected[key][1])).mean() < 2.0, expected[key][0]
    first, second = (pixels(decoded(page.data["images"][states[k]])) for k in drawn[:2])
    assert np.abs(first - second).mean() > 0.5  # different states, different pictures


def test_controls_match_the_widget(segments_page):
    widget, out = segments_page
    page = Page(out.read_text())
    assert list(page.ranges) == list(widget.controls)
    for name, control in widget.controls.items():
        attrs = page.ranges[name]
        assert (float(attrs["min"]), float(attrs["max"]), float(attrs["step"])) == \
            (control.min, control.max, control.step), name
    assert "disabled" in page.ranges["kernel_size"]  # one exported value: nothing to move
    assert [c["values"] for c in page.data["controls"]] == [SEGMENTS_GRID[n] for n in widget.controls]


def test_dropdowns_become_selects_and_float_sliders_keep_their_step(tmp_path):
    tables = {"MobileNet": {"Conv 1x1": (0.95, 0.75), "Fully connected": (0.05, 0.25)},
              "other": {"Conv 3x3": (0.8, 0.5), "Fully connected": (0.2, 0.5)}}
    widget = widgets.layer_costs_widget(tables)
    page = Page(export.export_html(widget, tmp_path / "tables.html").read_text())
    assert page.selects == {"model": ["0", "1"]}
    assert page.data["controls"][0]["labels"] == ["MobileNet", "other"]
    assert len(page.data["images"]) == 2

    curves = widgets.cost_curves_widget()
    page = Page(export.export_html(curves, tmp_path / "curves.html",
                                   grid={"alpha": [0.25, 0.5, 1.0]}).read_text())
    alpha = curves.controls["alpha"]
    assert [float(page.ranges["alpha"][k]) for k in ("min", "max", "step")] == \
        [alpha.min, alpha.max, alpha.step]
    assert page.data["controls"][0]["labels"] == ["0.25", "0.50", "1.00"]


def test_the_page_is_self_contained(segments_page):
    _, out = segments_page
    text = out.read_text()
    page = Page(text)
    assert not re.search(r"https?://", text)
    assert all(src.startswith("data:") for _, src in page.srcs)  # nothing to fetch, not even a file
    assert [kind for kind, _ in page.scripts] == ["application/json", "text/javascript"]
    assert "</script" not in page.scripts[0][1]


def test_the_script_maps_every_key_the_controls_can_make(segments_page):
    # The script builds a key as the exported-value index of each control, joined by commas.
    _, out = segments_page
    page = Page(out.read_text())
    script = page.scripts[1][1]
    assert 'join(",")' in script and "data.states[key]" in script
    counts = [len(c["labels"]) for c in page.data["controls"]]
    keys = {",".join(map(str, p)) for p in itertools.product(*map(range, counts))}
    assert set(page.data["states"]) == keys
    for value in page.data["states"].values():
        assert isinstance(value, str) and value or 0 <= value < len(page.data["images"])


def test_write_is_atomic(tmp_path, monkeypatch):
    widget = widgets.receptive_depth_widget()
    out = tmp_path / "depth.html"
    out.write_text("the previous export")
    grid = {"max_depth": [4, 8]}
    export.export_html(widget, out, grid=grid)
    assert [p.name for p in tmp_path.iterdir()] == ["depth.html"]
    good = out.read_text()
    assert good.count("data:image/png;base64,") == 2

    def torn(self, text, *args, **kwargs):  # the disk fills up half way through
        with open(self, "w") as fh:
            fh.write(text[: len(text) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(Path, "write_text", torn)
    with pytest.raises(OSError):
        export.export_html(widget, out, grid=grid)
    monkeypatch.undo()
    assert out.read_text() == good
    assert [p.name for p in tmp_path.iterdir()] == ["depth.html"]


@pytest.mark.parametrize("grid, words", [
    ({"segmnets": [1, 2]}, ["grid", "segmnets", "segments"]),
    ({"segments": [1, 99]}, ["grid['segments']", "99", "[1, 32]"]),
    ({"segments": []}, ["grid['segments']", "empty"]),
    ({"segments": "1,2"}, ["grid['segments']", "list"]),
    ({"segments": [1.5]}, ["grid['segments']", "integers"]),
    ([("segments", [1])], ["grid must be a dict"]),
    (None, ["grid", "max_states=400", "7,168"]),
])
def test_a_bad_grid_is_refused_naming_the_argument(tmp_path, grid, words):
    widget = widgets.segment_diagram_widget()
    with pytest.raises(ValueError) as info:
        export.export_html(widget, tmp_path / "x.html", grid=grid)
    for word in words:
        assert word in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_too_many_states_name_grid_and_max_states(tmp_path):
    widget = widgets.segment_diagram_widget()
    with pytest.raises(ValueError, match=r"grid gives 6 states .*max_states=5"):
        export.export_html(widget, tmp_path / "x.html", grid={"segments": [1, 2, 4], "channels": [8, 16]},
                           max_states=5)
    with pytest.raises(ValueError, match="max_states must be a positive integer"):
        export.export_html(widget, tmp_path / "x.html", grid={"segments": [1]}, max_states=0)


def test_default_grid_stays_within_budget_and_keeps_the_current_value():
    for name in ("filter_decomposition_widget", "cost_curves_widget", "receptive_field_widget"):
        widget = getattr(widgets, name)()
        grid = export.default_grid(widget, budget=30)
        assert 8 <= np.prod([len(v) for v in grid.values()]) <= 30, name
        for control, values in grid.items():
            assert widget.controls[control].value in values
            assert set(values) <= set(widget.options(control)), (name, control)


def test_lecture_grids_fit_the_widgets():
    for name, grid in export.LECTURE_GRIDS.items():
        widget = getattr(widgets, name)()
        checked = export._check_grid(widget, grid)  # raises on a renamed control or a value out of range
        assert 1 < np.prod([len(v) for v in checked.values()]) <= 100, name


def frames(path) -> int:
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        return gif.n_frames


def test_gif_has_one_frame_per_step(tmp_path):
    widget = widgets.receptive_field_widget()
    before = widget.state
    out = export.export_animation(widget, tmp_path / "growth.gif", control="show_layer", layers=8, fps=4)
    assert frames(out) == len(widget.options("show_layer")) == 8
    assert widget.state == before
    out = export.export_animation(widget, tmp_path / "three.gif", control="kernel_size", values=[1, 3, 5])
    assert frames(out) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["growth.gif", "three.gif"]


def test_gif_from_a_draw_function(tmp_path):
    from convviz import plots

    def draw(fig, depth):
        plots.receptive_field_growth([(3, 1, 1)] * 5, depth=depth, fig=fig)

    out = export.export_animation(draw, tmp_path / "draw.gif", values=range(1, 6), figsize=(6, 3))
    assert frames(out) == 5
    with Image.open(out) as gif:
        dpi = matplotlib.rcParams["figure.dpi"]
        assert gif.size == (round(6 * dpi), round(3 * dpi))


def test_gif_refusals_leave_nothing_behind(tmp_path):
    widget = widgets.receptive_field_widget()  # 3 layers: show layer 4 is refused
    with pytest.raises(ValueError, match=r"refuses show_layer=4.*at most layers"):
        export.export_animation(widget, tmp_path / "growth.gif", control="show_layer")
    with pytest.raises(ValueError, match="control must name"):
        export.export_animation(widget, tmp_path / "growth.gif", control="depth")
    with pytest.raises(ValueError, match=r"path must end in \.gif or \.mp4"):
        export.export_animation(widget, tmp_path / "growth.avi", control="layers")
    with pytest.raises(ValueError, match="fps"):
        export.export_animation(widget, tmp_path / "growth.gif", control="layers", fps=0)
    with pytest.raises(ValueError, match="values must list"):
        export.export_animation(lambda fig, v: None, tmp_path / "f.gif")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("ffmpeg") is not None, reason="ffmpeg is installed: MP4 is written")
def test_mp4_without_ffmpeg_says_so(tmp_path):
    with pytest.raises(ValueError, match="MP4 needs ffmpeg"):
        export.export_animation(widgets.receptive_field_widget(), tmp_path / "g.mp4", control="layers")


def test_command_exports_one_widget_with_a_grid(tmp_path, capsys):
    out = tmp_path / "seg.html"
    assert export.main(["segment_diagram", str(out), "--grid", "segments=1,2,4", "--grid", "channels=8"]) == 0
    assert "3 states" in capsys.readouterr().out
    page = Page(out.read_text())
    assert len(page.data["images"]) == 3
    assert [c["labels"] for c in page.data["controls"]] == [["8"], ["1", "2", "4"], ["3"]]


@pytest.mark.parametrize("argv, message", [
    (["no_such_widget", "x.html"], "unknown widget"),
    (["segment_diagram", "x.html", "--grid", "segments=1,x"], "'x' is not a number"),
    (["segment_diagram", "x.html", "--grid", "segments"], "expected name=v1,v2"),
    (["segment_diagram", "x.html", "--grid", "segments=1,64"], "outside the slider's range"),
    (["correlation_widget", "x.html"], "draws data (activations)"),
    (["segment_diagram"], "give WIDGET_NAME OUT.html"),
])
def test_command_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        export.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_command_all_exports_every_widget_without_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(export, "LECTURE_GRIDS", {})  # the generic default grid, tiny, for speed
    assert export.main(["--all", str(tmp_path / "lecture"), "--budget", "2"]) == 0
    printed = capsys.readouterr().out
    factories = [n for n in widgets.__all__ if n.endswith("_widget")]
    needs_data = {"correlation_widget", "separable_fit_widget", "effective_field_widget",
                  "layer_costs_widget"}
    written = sorted(p.name for p in (tmp_path / "lecture").iterdir())
    assert written == sorted([f"{n.removesuffix('_widget')}.html" for n in factories if n not in needs_data]
                             + ["receptive_field_growth.gif"])
    for name in needs_data:
        assert f"skipped {name}" in printed
    for html in (tmp_path / "lecture").glob("*.html"):
        assert Page(html.read_text()).data["images"], html.name
    assert frames(tmp_path / "lecture" / "receptive_field_growth.gif") == 8


def test_command_writes_a_gif_and_imports_no_tensorflow(tmp_path):
    out = tmp_path / "growth.gif"
    run = subprocess.run([sys.executable, "-m", "convviz.export", "receptive_field_widget", str(out),
                          "--step", "show_layer", "--grid", "layers=5", "--grid", "show_layer=1,3,5"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "3 frames" in run.stdout and frames(out) == 3
    code = ("import sys; from convviz import export; "
            "export.main(['segment_diagram', sys.argv[1], '--grid', 'segments=1,2']); "
            "assert 'tensorflow' not in sys.modules, 'convviz.export imported TensorFlow'")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "seg.html")], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr


def test_show_bundles_the_live_widget_with_a_png_fallback():
    widget = widgets.segment_diagram_widget()
    bundle = export.mimebundle(widget)
    assert bundle[WIDGET_VIEW]["model_id"] == widget.model_id
    png = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert png.size == tuple(round(v) for v in widget.figure.get_size_inches() * widget.figure.dpi)
    assert bundle["text/plain"] == "<figure: channels=16, segments=4, kernel=3>"
    widget.render(segments=5)
    bundle = export.mimebundle(widget)
    assert "image/png" not in bundle and "must divide" in bundle["text/plain"]


def test_lecture_notebook_renders_statically():
    """Every widget cell of the committed lecture notebook carries a PNG GitHub can show."""
    import nbformat

    nb = nbformat.read(str(LECTURE), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "tensorflow" not in code and "train" not in code.replace("trains nothing", "")
    shown = [c for c in nb.cells if c.cell_type == "code" and "show(widgets." in c.source]
    assert len(shown) >= 4
    for cell in shown:
        outputs = [o for o in cell.outputs if o.output_type == "display_data"]
        assert len(outputs) == 1, cell.source
        data = outputs[0].data
        assert WIDGET_VIEW not in data, cell.source  # cleaned: no widget view without its state
        Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).verify()
        assert data["text/plain"].startswith("<figure: "), cell.source
    assert "widgets" not in nb.metadata
