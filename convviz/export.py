"""Lecture export: a widget as one self-contained HTML file, a control stepped into a GIF.

A :class:`~convviz.widgets.FigureWidget` needs a running kernel. For slides and for reading
from disk, :func:`export_html` pre-renders the widget's states to PNG, embeds them as data
URIs, and rebuilds the same controls in plain HTML (a range input per slider with the
widget's min, max and step, a select per dropdown) with a few lines of JavaScript that show
the picture of the chosen state, or the widget's message where the widget refuses it.
Nothing is fetched: the file works from ``file://``, inside an iframe, offline.

:func:`export_animation` steps one control (or any ``draw(fig, value)``) into a GIF, such as
the receptive field growing layer by layer. :func:`show` displays a widget in a notebook with
a PNG of its figure as the fallback, so a saved notebook reads as pictures on GitHub.

    python -m convviz.export segment_diagram_widget segments.html --grid segments=1,2,4,8,16
    python -m convviz.export receptive_field_widget growth.gif --step show_layer --grid layers=8
    python -m convviz.export --all lecture/

Without ``--grid`` the command uses :func:`default_grid`. ``--all`` writes every widget of
``convviz.widgets`` that needs no data, and the receptive-field growth GIF. Never imports
TensorFlow.
"""
from __future__ import annotations

import argparse
import base64
import html
import inspect
import io
import itertools
import json
import math
import numbers
import os
import re
import secrets
import sys
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LECTURE_GRIDS", "default_grid", "export_animation", "export_html", "mimebundle", "show"]

# Curated default grids for the widgets a lecture shows: the values worth switching between.
# Controls not named keep the widget's default. tests/test_export.py checks them against the
# widgets' ranges.
LECTURE_GRIDS = {
    "filter_decomposition_widget": {"kernel_size": [1, 3, 5, 7], "in_channels": [16, 32, 64, 128],
                                    "filters": [16, 32, 64, 128]},
    "segment_diagram_widget": {"channels": [8, 16, 32], "segments": [1, 2, 4, 8, 16, 32],
                               "kernel_size": [1, 3, 5]},
    "extreme_inception_widget": {"in_channels": [16, 32, 64, 128, 256],
                                 "filters": [32, 64, 128, 256], "kernel_size": [3, 5]},
    "receptive_field_widget": {"kernel_size": [3, 5, 7], "stride": [1, 2], "layers": [8],
                               "show_layer": [1, 2, 3, 4, 5, 6, 7, 8]},
    "cost_comparison_widget": {"kernel_size": [1, 3, 5, 7], "in_channels": [32, 128, 512, 1024],
                               "filters": [32, 128, 512, 1024]},
}
DEFAULT_BUDGET = 48  # states per widget when no grid is given on the command line


# --------------------------------------------------------------------------- controls


def _is_dropdown(control) -> bool:
    return hasattr(control, "_options_values")


def _label(control, value) -> str:
    """A value as the widget shows it: the dropdown's label, the slider's readout."""
    if _is_dropdown(control):
        return str(control._options_labels[list(control._options_values).index(value)])
    fmt = getattr(control, "readout_format", "")
    try:
        return format(value, fmt)
    except (TypeError, ValueError):
        return str(value)


def _slider_value(control, name, value):
    """``value`` checked against a slider's range and cast to its type, or ValueError naming grid."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"grid[{name!r}] holds {value!r}; a slider takes numbers")
    if not control.min <= value <= control.max:
        raise ValueError(f"grid[{name!r}] holds {value!r}, outside the slider's range "
                         f"[{control.min}, {control.max}]")
    if isinstance(control.value, int):
        if value != int(value):
            raise ValueError(f"grid[{name!r}] holds {value!r}; {name} takes integers")
        return int(value)
    return float(value)


def _check_grid(widget, grid):
    """The grid as name -> list of allowed values for every control, in the controls' order.

    ``grid=None`` is every value of every control; a control the grid leaves out keeps its
    current value.
    """
    if grid is None:
        return {name: widget.options(name) for name in widget.controls}
    if not isinstance(grid, dict):
        raise ValueError(f"grid must be a dict of control name -> list of values; got {type(grid).__name__}")
    unknown = sorted(set(grid) - set(widget.controls))
    if unknown:
        raise ValueError(f"grid names unknown control(s) {unknown}; allowed: {list(widget.controls)}")
    out = {}
    for name, control in widget.controls.items():
        if name not in grid:
            out[name] = [control.value]
            continue
        values = grid[name]
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"grid[{name!r}] must be a list of values; got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"grid[{name!r}] is empty; give at least one value")
        if _is_dropdown(control):
            allowed = list(control._options_values)
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"grid[{name!r}] holds {bad}, not options of {name}; allowed: {allowed}")
        else:
            values = sorted(_slider_value(control, name, v) for v in values)
        out[name] = [v for i, v in enumerate(values) if v not in values[:i]]
    return out


def default_grid(widget, budget: int = DEFAULT_BUDGET) -> dict:
    """Evenly spaced values per control, the current value among them, at most ``budget`` states.

    Controls take turns gaining a value while the product stays within ``budget``; a slider's
    picks run from its min to its max.
    """
    if int(budget) != budget or budget < 1:
        raise ValueError(f"budget must be a positive integer; got {budget!r}")
    options = {name: widget.options(name) for name in widget.controls}
    counts = dict.fromkeys(options, 1)
    grown = True
    while grown:
        grown = False
        for name in options:
            total = math.prod(counts.values())
            if counts[name] < len(options[name]) and total // counts[name] * (counts[name] + 1) <= budget:
                counts[name] += 1
                grown = True
    grid = {}
    for name, n in counts.items():
        values, current = options[name], widget.controls[name].value
        if n == 1:
            grid[name] = [current]
            continue
        picks = [values[round(i * (len(values) - 1) / (n - 1))] for i in range(n)]
        if current not in picks:  # swap the nearest pick for the current value
            at = min(range(n), key=lambda i: abs(values.index(picks[i]) - values.index(current)))
            picks[at] = current
        grid[name] = picks
    return grid


@contextmanager
def _kept_state(widget):
    """Restore the widget's controls (and so its figure) after walking its states."""
    before = widget.state
    try:
        yield
    finally:
        widget.render(**before)


def _message_text(widget) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", widget.message.value)).strip()


# --------------------------------------------------------------------------- files


@contextmanager
def _atomic(path: Path):
    """A temporary name beside ``path`` (same suffix) renamed onto it on success, removed on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named here, created by the writer, so the file gets the usual permissions (umask).
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1rem; color: #222; }
h1 { font-size: 1.2rem; font-weight: 600; margin: 0 0 .6rem; }
.controls { display: flex; flex-wrap: wrap; gap: .4rem 1.4rem; margin-bottom: .5rem; }
.controls label { display: inline-flex; align-items: center; gap: .4rem; font-size: .9rem; }
.controls output { min-width: 2.5em; font-variant-numeric: tabular-nums; }
.message { color: #b00020; min-height: 1.2em; margin: .3rem 0; }
.figure { max-width: 100%; height: auto; display: block; }
[hidden] { display: none !important; }
.note { color: #777; font-size: .75rem; margin-top: .4rem; }
"""

# Reads the states from the JSON block; a slider snaps to the nearest exported value.
_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("convviz-data").textContent);
  var root = document.getElementById("convviz");
  var img = root.querySelector(".figure"), msg = root.querySelector(".message");
  var inputs = data.controls.map(function (c) {
    return root.querySelector('[data-control="' + c.name + '"]');
  });
  var current = data.controls.map(function () { return -1; });
  function nearest(values, v) {
    var best = 0;
    for (var j = 1; j < values.length; j++) {
      if (Math.abs(values[j] - v) < Math.abs(values[best] - v)) best = j;
    }
    return best;
  }
  function update() {
    var key = data.controls.map(function (c, i) {
      var el = inputs[i];
      if (c.kind === "select") return Number(el.value);
      var v = Number(el.value), j = nearest(c.values, v), last = current[i];
      // A keyboard step between two exported values moves on to the next one, not back.
      if (j === last && v !== c.values[j]) {
        j = Math.max(0, Math.min(c.values.length - 1, j + (v > c.values[j] ? 1 : -1)));
      }
      if (v !== c.values[j]) el.value = c.values[j];
      el.parentNode.querySelector("output").textContent = c.labels[j];
      current[i] = j;
      return j;
    }).join(",");
    var state = data.states[key];
    root.setAttribute("data-state", key);
    if (typeof state === "number") {
      img.src = data.images[state];
      img.hidden = false;
      msg.textContent = "";
    } else {
      img.hidden = true;
      msg.textContent = state;
    }
  }
  inputs.forEach(function (el) {
    el.addEventListener("input", update);
    el.addEventListener("change", update);
  });
  update();
})();
"""


def _number(v) -> str:
    return repr(float(v)) if isinstance(v, float) else str(int(v))


def _control_html(name, control, values, start):
    label = html.escape(control.description or name)
    if _is_dropdown(control):
        opts = "".join(f'<option value="{j}"{" selected" if j == start else ""}>'
                       f"{html.escape(_label(control, v))}</option>" for j, v in enumerate(values))
        disabled = " disabled" if len(values) == 1 else ""
        return (f'<label>{label} <select name="{html.escape(name)}" data-control="{html.escape(name)}"'
                f"{disabled}>{opts}</select></label>")
    ticks = f"ticks-{name}"
    datalist = "".join(f'<option value="{_number(v)}"></option>' for v in values)
    disabled = " disabled" if len(values) == 1 else ""
    return (f'<label>{label} <input type="range" name="{html.escape(name)}" '
            f'data-control="{html.escape(name)}" min="{_number(control.min)}" '
            f'max="{_number(control.max)}" step="{_number(control.step)}" '
            f'value="{_number(values[start])}" list="{html.escape(ticks)}"{disabled}>'
            f'<datalist id="{html.escape(ticks)}">{datalist}</datalist>'
            f"<output>{html.escape(_label(control, values[start]))}</output></label>")


def _palette_png(png: bytes) -> bytes:
    """The picture with a 256-colour palette: a line figure looks the same at about a third of the bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(256).save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _render_states(widget, grid, palette=True):
    """(images, states): PNG data URIs, and state key -> image index or refusal message."""
    names = list(grid)
    images, states = [], {}
    with _kept_state(widget):
        for picks in itertools.product(*(range(len(grid[n])) for n in names)):
            state = {n: grid[n][j] for n, j in zip(names, picks)}
            key = ",".join(map(str, picks))
            if widget.render(**state) is None:
                states[key] = _message_text(widget) or "this state is not drawn"
            else:
                states[key] = len(images)
                png = _palette_png(widget.image.value) if palette else widget.image.value
                images.append("data:image/png;base64," + base64.b64encode(png).decode("ascii"))
    return images, states


def export_html(widget, path, grid=None, title=None, max_states=400, palette=True) -> Path:
    """Write ``widget`` as one self-contained HTML file that switches between pre-rendered states.

    ``grid``: control name -> list of values to export (a control left out keeps its current
    value); ``None`` exports every value of every control. Refuses (ValueError) a grid whose
    product of value counts exceeds ``max_states``; :func:`default_grid` picks a small one. A
    state the widget refuses shows its message in place of the picture. The file is written
    under a temporary name and renamed, so a reader never sees half of it. ``palette`` stores
    256-colour PNGs (about a third of the size; False keeps the widget's own). Returns the path.
    """
    if isinstance(max_states, bool) or not isinstance(max_states, int) or max_states < 1:
        raise ValueError(f"max_states must be a positive integer; got {max_states!r}")
    grid = _check_grid(widget, grid)
    total = math.prod(len(v) for v in grid.values())
    if total > max_states:
        sizes = " x ".join(f"{len(v)} {n}" for n, v in grid.items() if len(v) > 1)
        raise ValueError(f"grid gives {total:,} states ({sizes}), more than max_states={max_states}: "
                         "pass grid= (control name -> list of values, e.g. "
                         "convviz.export.default_grid(widget)) or raise max_states")
    path = Path(path)
    images, states = _render_states(widget, grid, palette)
    current = widget.state
    starts = {n: (v.index(current[n]) if current[n] in v else 0) for n, v in grid.items()}
    controls = []
    for name, values in grid.items():
        control = widget.controls[name]
        entry = {"name": name, "kind": "select" if _is_dropdown(control) else "range",
                 "labels": [_label(control, v) for v in values]}
        if entry["kind"] == "range":
            entry["values"] = values
        controls.append(entry)
    data = json.dumps({"controls": controls, "states": states, "images": images}, separators=(",", ":"))
    data = data.replace("<", "\\u003c")  # nothing in the JSON can close the script element
    title = title or "convviz figure"
    n_refused = sum(isinstance(s, str) for s in states.values())
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="convviz.export">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main id="convviz">
<h1>{html.escape(title)}</h1>
<form class="controls" onsubmit="return false">
{chr(10).join(_control_html(n, widget.controls[n], v, starts[n]) for n, v in grid.items())}
</form>
<p class="message" role="status"></p>
<img class="figure" alt="{html.escape(title)}" hidden>
<p class="note">{len(states)} pre-rendered states ({n_refused} shown as a message); a slider snaps
to the nearest exported value. Exported by convviz.</p>
</main>
<script type="application/json" id="convviz-data">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
    with _atomic(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- animation


def export_animation(source, path, control=None, values=None, fps=2, figsize=(9, 4.2), **state) -> Path:
    """Write one frame per value to a GIF (``.gif``) or, when ffmpeg is on PATH, an MP4 (``.mp4``).

    ``source`` is a FigureWidget, stepped through ``control`` (``values`` defaults to every
    value it takes; ``state`` sets other controls first, e.g. ``layers=8``), or a callable
    ``draw(fig, value)`` that fills the figure for each of ``values`` (a new figure of
    ``figsize``). A state the widget refuses is an error: a frame is never silently left out.
    Note that Pillow merges a GIF frame identical to the one before it.
    """
    from matplotlib import animation
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise ValueError(f"fps must be a positive number; got {fps!r}")
    suffix = path.suffix.lower()
    if suffix == ".gif":
        writer = animation.PillowWriter(fps=fps)
    elif suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise ValueError(f"path {str(path)!r}: writing MP4 needs ffmpeg on PATH; write a .gif instead")
        writer = animation.FFMpegWriter(fps=fps)
    else:
        raise ValueError(f"path must end in .gif or .mp4; got {str(path)!r}")

    if hasattr(source, "controls") and hasattr(source, "render"):
        widget = source
        if control not in widget.controls:
            raise ValueError(f"control must name one of the widget's controls {list(widget.controls)}; "
                             f"got {control!r}")
        if control in state:
            raise ValueError(f"state sets {control!r}, the control being stepped; pass its values as values=")
        values = widget.options(control) if values is None else list(values)
        fig = widget.figure

        def frame(value):
            if widget.render(**state, **{control: value}) is None:
                others = state or "its current state"
                raise ValueError(f"the widget refuses {control}={value!r} with {others}: "
                                 f"{_message_text(widget)}; fix the other controls (state= in Python, "
                                 "--grid name=value on the command line)")
        keep = _kept_state(widget)
    elif callable(source):
        if control is not None or state:
            raise ValueError("control and state apply to a widget; a draw(fig, value) callable takes values")
        if values is None:
            raise ValueError("values must list the frames' values for a draw(fig, value) callable")
        values = list(values)
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)

        def frame(value):
            source(fig, value)
        keep = _nothing()
    else:
        raise ValueError("source must be a FigureWidget or a callable draw(fig, value); "
                         f"got {type(source).__name__}")
    if not values:
        raise ValueError("values is empty: an animation needs at least one frame")

    size = fig.get_size_inches().copy()
    with keep, _atomic(path) as tmp:
        try:
            with writer.saving(fig, str(tmp), dpi=fig.dpi):
                for value in values:
                    frame(value)
                    writer.grab_frame()
        finally:
            fig.set_size_inches(size)  # the ffmpeg writer may round the size to even pixels
    return path


@contextmanager
def _nothing():
    yield


# --------------------------------------------------------------------------- notebooks


def show(widget) -> None:
    """Display ``widget`` live, with a PNG of its current figure as the fallback in the same bundle.

    A front end with the widget manager (JupyterLab, Voila) shows the live widget; a saved
    notebook cleaned of widget state (``python -m convviz.notebooks clean``) keeps the PNG, which
    GitHub and nbviewer render.
    """
    from IPython.display import display

    display(mimebundle(widget), raw=True)


def mimebundle(widget) -> dict:
    """What :func:`show` displays: the widget view, ``image/png`` of its figure, a short text.

    A refused state has no picture: its message is the text.
    """
    bundle = dict(widget._repr_mimebundle_() or {})
    if widget.message.value:
        bundle["text/plain"] = _message_text(widget)
    else:
        bundle["image/png"] = base64.b64encode(_palette_png(widget.image.value)).decode("ascii")
        values = ", ".join(f"{c.description or n}={_label(c, c.value)}" for n, c in widget.controls.items())
        bundle["text/plain"] = f"<figure: {values}>"
    return bundle


# --------------------------------------------------------------------------- command line


def _factories() -> dict:
    from . import widgets

    return {name: getattr(widgets, name) for name in widgets.__all__ if name.endswith("_widget")}


def _needs_data(factory) -> list:
    return [p.name for p in inspect.signature(factory).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _title(name, factory) -> str:
    doc = (inspect.getdoc(factory) or "").split("\n")[0].strip()
    head = name.removesuffix("_widget").replace("_", " ").capitalize()
    return f"{head}: {doc}" if doc else head


def _parse_grid(widget, items, error) -> dict:
    """``["name=v1,v2", ...]`` as a grid, each value cast to its control's type."""
    grid = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not raw:
            error(f"--grid {item!r}: expected name=v1,v2,...")
        if name not in widget.controls:
            error(f"--grid {item!r}: unknown control {name!r}; allowed: {', '.join(widget.controls)}")
        control = widget.controls[name]
        values = []
        for text in raw.split(","):
            if _is_dropdown(control):
                match = [v for v in control._options_values if text in (str(v), _label(control, v))]
                if not match:
                    error(f"--grid {item!r}: {text!r} is not an option of {name}; allowed: "
                          f"{', '.join(map(str, control._options_labels))}")
                values.append(match[0])
            else:
                try:
                    values.append((int if isinstance(control.value, int) else float)(text))
                except ValueError:
                    error(f"--grid {item!r}: {text!r} is not a number")
        grid[name] = values
    return grid


def _export_all(outdir: Path, budget: int) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    for name, factory in _factories().items():
        needs = _needs_data(factory)
        if needs:
            print(f"skipped {name}: it draws data ({', '.join(needs)}); export it from Python: "
                  f"export_html({name}(...), 'out.html', grid=...)")
            continue
        widget = factory()
        grid = LECTURE_GRIDS.get(name) or default_grid(widget, budget)
        _export_one(widget, outdir / f"{name.removesuffix('_widget')}.html", grid, _title(name, factory))
    start = time.perf_counter()
    gif = export_animation(_factories()["receptive_field_widget"](), outdir / "receptive_field_growth.gif",
                           control="show_layer", layers=8)
    print(f"wrote {gif} (8 frames, {gif.stat().st_size / 1e3:,.0f} kB) "
          f"in {time.perf_counter() - start:.1f} s")


def _export_one(widget, path, grid, title, max_states=400):
    start = time.perf_counter()
    export_html(widget, path, grid=grid, title=title, max_states=max_states)
    n = math.prod(len(v) for v in _check_grid(widget, grid).values())
    print(f"wrote {path} ({n} states, {Path(path).stat().st_size / 1e6:.1f} MB) "
          f"in {time.perf_counter() - start:.1f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convviz.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("widget", nargs="?", metavar="WIDGET_NAME",
                        help="a factory of convviz.widgets, e.g. segment_diagram_widget")
    parser.add_argument("out", nargs="?", metavar="OUT", help="OUT.html, or OUT.gif with --step")
    parser.add_argument("--all", metavar="OUTDIR", help="export every widget that needs no data")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                        help="values of one control to export (repeat per control); "
                             "the others keep their default")
    parser.add_argument("--step", metavar="CONTROL", help="write a GIF stepping this control")
    parser.add_argument("--fps", type=float, default=2.0, help="frames per second of a GIF (default 2)")
    parser.add_argument("--max-states", type=int, default=400, help="refuse grids larger than this")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                        help=f"states per widget without --grid (default {DEFAULT_BUDGET})")
    parser.add_argument("--title", help="heading of the HTML page")
    args = parser.parse_args(argv)
    error = lambda message: parser.error(message)  # noqa: E731  (prints usage, exits 2)

    try:
        if args.all:
            if args.widget or args.grid or args.step:
                error("--all OUTDIR takes no WIDGET_NAME, --grid or --step")
            _export_all(Path(args.all), args.budget)
            return 0
        if not args.widget or not args.out:
            error("give WIDGET_NAME OUT.html (or --all OUTDIR)")
        factories = _factories()
        name = args.widget if args.widget in factories else f"{args.widget}_widget"
        if name not in factories:
            error(f"unknown widget {args.widget!r}; allowed: {', '.join(factories)}")
        needs = _needs_data(factories[name])
        if needs:
            error(f"{name} draws data ({', '.join(needs)}); export it from Python: "
                  f"convviz.export.export_html({name}(...), 'out.html')")
        widget = factories[name]()
        grid = _parse_grid(widget, args.grid, error)
        if args.step:
            if args.step not in widget.controls:
                error(f"--step {args.step!r}: unknown control; allowed: {', '.join(widget.controls)}")
            fixed = {n: v for n, v in grid.items() if n != args.step}
            if any(len(v) != 1 for v in fixed.values()):
                error("with --step, --grid fixes the other controls: one value each")
            values = grid.get(args.step)
            path = export_animation(widget, args.out, control=args.step, values=values, fps=args.fps,
                                    **{n: v[0] for n, v in fixed.items()})
            print(f"wrote {path} ({len(values or widget.options(args.step))} frames)")
            return 0
        grid = grid or LECTURE_GRIDS.get(name) or default_grid(widget, args.budget)
        _export_one(widget, args.out, grid, args.title or _title(name, factories[name]), args.max_states)
    except ValueError as exc:
        error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
