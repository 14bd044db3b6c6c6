"""A widget that owns one figure and redraws it in place.

The figure is a plain ``matplotlib.figure.Figure`` (no pyplot, so nothing piles up in
pyplot's state) rendered by Agg to PNG bytes inside an ``ipywidgets.Image``: it works in
JupyterLab and Voila without ipympl. A state the renderer refuses (a ``ValueError``, such as
channels not divisible by segments) shows its one-line message instead of the picture.

Every widget is enumerable: ``controls`` maps a name to its ipywidgets control,
``options(name)`` lists the values a control can take, and ``render(**state)`` draws any
combination, so a kernel-free export can walk the states.
"""
from __future__ import annotations

import base64
import gc
import html
import re
import inspect
import io

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 80
# Freeze the objects alive when a widget is made (see _settle_garbage_collector); False: leave
# Python's garbage collector alone.
FREEZE_GC = True


def _settle_garbage_collector():
    """Collect, then freeze what is alive, so that later collections skip it.

    A full collection walks every tracked object: about 0.3 s in a kernel that has imported
    TensorFlow, and it lands inside whichever redraw happens to trigger it (the long tail of
    the latency benchmark). After ``gc.freeze()`` collections walk only what was made since,
    mostly the widgets' own artists. Unfreezing first lets each new widget collect whatever
    died since the last one (an older copy of a widget, for instance), so nothing is kept for good.
    """
    if FREEZE_GC:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def figsize_of(renderer):
    """The figure size a renderer draws at by default, so a widget shows the same picture."""
    return inspect.signature(renderer).parameters["figsize"].default


def slider(description, value, low, high, step=1):
    """An int (or float, when any bound is a float) slider with its description in full."""
    kind = widgets.FloatSlider if any(isinstance(v, float) for v in (value, low, high, step)) \
        else widgets.IntSlider
    return kind(value=value, min=low, max=high, step=step, description=description,
                style={"description_width": "initial"}, continuous_update=False)


def choice_slider(description, options, value=None):
    """A slider over a fixed list of values (for example the powers of two)."""
    options = list(options)
    return widgets.SelectionSlider(options=options, value=value if value is not None else options[0],
                                   description=description, style={"description_width": "initial"},
                                   continuous_update=False)


def _choices(control):
    """The values of a dropdown or selection slider; None for a numeric slider."""
    return list(control._options_values) if hasattr(control, "_options_values") else None


def dropdown(description, options, value=None):
    return widgets.Dropdown(options=options, value=value if value is not None else list(options)[0],
                            description=description, style={"description_width": "initial"})


class FigureWidget(widgets.VBox):
    """Controls, a message line and one figure; ``draw(fig, **state)`` fills the figure.

    Attributes: ``controls`` (name -> control), ``figure`` (the one Figure), ``image`` (the
    ipywidgets.Image showing it), ``message`` (HTML, empty unless the state is refused).
    """

    def __init__(self, draw, controls: dict, figsize, dpi=DPI):
        super().__init__()
        self.controls = dict(controls)
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        # Shown at the figure's own pixel size (shrunk on narrow pages), never stretched blurry.
        width = int(self.figure.get_figwidth() * dpi)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px",
                                                                       max_width="100%"))
        self.message = widgets.HTML()
        self._draw = draw
        self._quiet = False
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        bar = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.children = [bar, self.message, self.image]
        self._redraw()
        _settle_garbage_collector()

    @property
    def state(self) -> dict:
        """The current value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def options(self, name) -> list:
        """Every value control ``name`` can take (slider steps from min to max, listed choices)."""
        control = self.controls[name]
        if _choices(control) is not None:
            return _choices(control)
        n = int(round((control.max - control.min) / control.step))
        if isinstance(control.value, int):
            return [control.min + i * control.step for i in range(n + 1)]
        return [round(control.min + i * control.step, 10) for i in range(n + 1)]  # no 0.30000000000000004

    def render(self, **state):
        """Set the named controls (one redraw for all of them) and draw.

        Returns the figure, or ``None`` when the state is refused (its message is shown).
        Raises ValueError for an unknown control name or a value outside a control's range.
        """
        unknown = sorted(set(state) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; allowed: {sorted(self.controls)}")
        for name, value in state.items():
            control = self.controls[name]
            allowed = _choices(control)
            if allowed is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)}; got {value!r}")
            if allowed is None and not control.min <= value <= control.max:
                raise ValueError(f"{name} must be in [{control.min}, {control.max}]; got {value!r}")
        self._quiet = True
        try:
            for name, value in state.items():
                self.controls[name].value = value
        finally:
            self._quiet = False
        return self._redraw()

    def _changed(self, change):
        if not self._quiet:
            self._redraw()

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a PNG of its figure for front ends without widgets.

        A saved notebook cleaned of widget state (GitHub, nbviewer) then still shows the picture.
        """
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        if self.message.value:
            bundle["text/plain"] = html.unescape(re.sub(r"<[^>]+>", "", self.message.value))
        else:
            if self.image.value:
                bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
            values = ", ".join(f"{name}={value}" for name, value in self.state.items())
            bundle["text/plain"] = f"<figure: {values}>"
        return bundle

    def _redraw(self):
        try:
            self._draw(self.figure, **self.state)
        except ValueError as error:
            self.figure.clear()
            self.message.value = f'<span style="color:#b00020">{html.escape(str(error))}</span>'
            self.image.layout.display = "none"
            return None
        buffer = io.BytesIO()
        # Light compression: a few more bytes to send, a third less time to encode.
        self.figure.savefig(buffer, format="png", dpi=self.figure.dpi, pil_kwargs={"compress_level": 1})
        self.image.value = buffer.getvalue()
        self.message.value = ""
        self.image.layout.display = None
        return self.figure
