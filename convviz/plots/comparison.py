"""Accuracy against cost for every model of the course (the rows of :func:`convviz.comparison.collect`)."""
from __future__ import annotations

import math

from matplotlib.lines import Line2D

from ._common import count, new_figure

SIZE_KEYS = (10_000, 100_000, 1_000_000, 10_000_000)  # parameter counts the size legend may show
LARGEST_AREA = 900.0  # points², the marker of the model with the most parameters


def accuracy_vs_mult_adds(rows, *, fig=None, figsize=(9, 5.2)):
    """Test accuracy against mult-adds (log scale), one marker per row, its area proportional to
    the parameters: filled for your runs, hollow for reference results, one colour per name.

    ``rows``: dicts with ``name``, ``test_accuracy``, ``mult_adds``, ``params`` and ``kind``
    (``"run"`` or ``"reference"``); ``mult_adds_complete=False`` marks a lower bound (its
    label says "≥"). Rows without mult-adds cannot be placed and are named under the axes.
    """
    if not isinstance(rows, (list, tuple)) or not rows:
        raise ValueError("rows must be a non-empty list of dicts (convviz.comparison.collect())")
    needed = {"name", "test_accuracy", "mult_adds", "params", "kind"}
    for row in rows:
        if not isinstance(row, dict) or not needed <= set(row):
            raise ValueError(f"rows must be dicts with keys {sorted(needed)}; got {row!r}")
        if row["kind"] not in ("run", "reference"):
            raise ValueError(f"kind must be 'run' or 'reference'; got {row['kind']!r}")
    drawn = [r for r in rows if r["mult_adds"]]
    missing = [r["name"] for r in rows if not r["mult_adds"]]
    notes = []
    if any(not r.get("mult_adds_complete", True) for r in drawn):
        notes.append("* mult-adds are a lower bound (layers without a cost formula)")
    if missing:
        notes.append("not drawn (mult-adds unknown): " + ", ".join(missing))
    fig = new_figure(fig, figsize, left=0.09, right=0.78, bottom=0.12 + 0.035 * len(notes), top=0.92)
    ax = fig.subplots()
    names = sorted({r["name"] for r in drawn})
    color = {n: f"C{i % 10}" for i, n in enumerate(names)}
    per_param = LARGEST_AREA / max([r["params"] or 1 for r in drawn] + [1])
    labels = []  # (row, marker radius in points)
    for kind in ("run", "reference"):
        part = [r for r in drawn if r["kind"] == kind]
        if not part:
            continue
        areas = [max(per_param * (r["params"] or 0), 4.0) for r in part]
        colors = [color[r["name"]] for r in part]
        look = ({"c": colors, "alpha": 0.6} if kind == "run"
                else {"facecolors": "none", "edgecolors": colors, "linewidths": 1.5})
        ax.scatter([r["mult_adds"] for r in part], [r["test_accuracy"] for r in part], s=areas,
                   gid=f"{kind}-markers", **look)
        for r, area in zip(part, areas):
            labels.append((r, math.sqrt(area) / 2 + 1))
    ax.set_xscale("log")
    if drawn:
        low, high = min(r["mult_adds"] for r in drawn), max(r["mult_adds"] for r in drawn)
        ax.set_xlim(low / 2, high * 3)
        accs = [r["test_accuracy"] for r in drawn]
        ax.set_ylim(max(0.0, min(accs) - 0.05), min(1.0, max(accs) + 0.05))
    _place_labels(ax, labels)
    ax.set(xlabel="mult-adds per image (log scale)", ylabel="test accuracy",
           title="accuracy against cost; marker area ∝ parameters")
    ax.grid(alpha=0.3, which="both")
    handles = [Line2D([], [], marker="o", ls="", ms=8, color="0.5", alpha=0.6, label="your runs"),
               Line2D([], [], marker="o", ls="", ms=8, mfc="none", mec="0.5", mew=1.5,
                      label="reference results")]
    largest = LARGEST_AREA / per_param
    keys = [n for n in SIZE_KEYS if n <= largest * 1.5] if drawn else []
    handles += [Line2D([], [], marker="o", ls="", color="0.75",
                       ms=math.sqrt(max(per_param * n, 4.0)), label=f"{count(n)} parameters")
                for n in keys[-3:]]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              labelspacing=1.6, borderpad=1.0, frameon=False)
    if notes:
        fig.text(0.09, 0.02, "\n".join(notes), fontsize=7, gid="notes")
    return fig


def _place_labels(ax, labels, line=9.0):
    """Name each marker beside it; a label that would sit on an earlier one moves down a line."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    placed = []  # (x, y) in axes fractions, of labels already placed, with their line offsets
    for r, radius in sorted(labels, key=lambda item: -item[0]["test_accuracy"]):
        fx = math.log10(r["mult_adds"] / x0) / math.log10(x1 / x0)
        fy = (r["test_accuracy"] - y0) / (y1 - y0)
        crowd = sum(abs(fx - px) < 0.12 and abs(fy - py) < 0.06 for px, py in placed)
        placed.append((fx, fy))
        star = "" if r.get("mult_adds_complete", True) else "*"
        ax.annotate(f"{r['name']}{star}", (r["mult_adds"], r["test_accuracy"]), fontsize=7,
                    xytext=(radius, radius - line * crowd), textcoords="offset points", gid="label")
