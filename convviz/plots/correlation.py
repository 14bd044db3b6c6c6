"""The Inception hypothesis: channel correlations and spatial correlations, learned apart.

- :func:`correlation_split`: what a layer's activations say (across channels, across space);
- :func:`segment_diagram`: which channels each spatial filter sees, from 1 segment to C;
- :func:`branches_vs_grouped`: an Inception-style module as branches and as one 1x1 then
  a grouped convolution, the same computation;
- :func:`extreme_inception`: "extreme" Inception beside a depthwise separable convolution,
  with the two differences marked.
"""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from ..core import correlation, costs, spectrum
from ._common import count, new_figure, reuse

SHOWN = 4  # branches / segments drawn before the "..."


def correlation_split(activations, max_offset=4, *, fig=None, figsize=(9, 3.8)):
    """Cross-channel correlation matrix beside the spatial autocorrelation, from ``(N, H, W, C)``.

    The texts give the mean |r| between different channels and the mean r between
    neighbouring positions (distance 1: the four offsets (±1, 0), (0, ±1)).
    """
    corr = correlation.channel_correlation(activations)
    auto = correlation.spatial_autocorrelation(activations, max_offset)
    c, r = corr.shape[0], int(max_offset)
    across = float(np.abs(corr[~np.eye(c, dtype=bool)]).mean()) if c > 1 else 0.0
    near = (float(np.mean([auto[r - 1, r], auto[r + 1, r], auto[r, r - 1], auto[r, r + 1]]))
            if r >= 1 else None)
    fig = new_figure(fig, figsize, left=0.07, right=0.86, bottom=0.14, top=0.8, wspace=0.35)
    ax_c, ax_s = fig.subplots(1, 2)
    image = ax_c.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax_c.set(xlabel="channel", ylabel="channel")
    ax_c.set_title(f"across channels: mean |r| = {across:.2f}", fontsize=9, y=1.0)
    ax_s.imshow(auto, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest",
                extent=(-r - 0.5, r + 0.5, r + 0.5, -r - 0.5))
    ax_s.set(xlabel="dx", ylabel="dy")
    ax_s.set_title("across space: r at distance 1 = " + ("–" if near is None else f"{near:.2f}"),
                   fontsize=9, y=1.0)
    for ax in (ax_c, ax_s):
        ax.locator_params(nbins=4)
    fig.colorbar(image, cax=fig.add_axes((0.88, 0.14, 0.015, 0.66)), label="correlation r",
                 ticks=[-1, 0, 1])
    n, h, w, _ = np.shape(activations)
    fig.suptitle(f"{n} images, {h}×{w} maps, {c} channels", fontsize=10)
    return fig


def _check_segments(channels, segments):
    if channels < 1 or segments < 1 or channels % segments:
        divisors = [g for g in range(1, channels + 1) if channels % g == 0] if channels >= 1 else []
        raise ValueError(f"segments ({segments}) must divide channels ({channels}); allowed: {divisors}")


def segment_diagram(channels, segments, kernel_size=3, *, fig=None, figsize=(10, 3.4)):
    """Which input channels each spatial filter sees, for 1 segment, ``segments``, and one per channel.

    Each panel joins the ``channels`` maps of the 1x1 convolution (bottom) to the spatial
    filters (top) that read them, coloured by segment; ``channels**2 / g`` lines for ``g``
    segments. Parameters of the spatial step: ``k·k·C·C/g`` (:func:`convviz.core.costs.conv2d`).
    """
    _check_segments(channels, segments)
    k = kernel_size
    fig = new_figure(fig, figsize, left=0.02, right=0.98, bottom=0.2, top=0.8, wspace=0.12)
    names = {1: "regular convolution", channels: "depthwise (extreme Inception)"}
    groups = [1, segments, channels]
    for ax, g in zip(fig.subplots(1, 3), groups):
        size = channels // g
        colors = colormaps["tab10"](np.arange(channels) // size % 10)  # RGBA per channel
        lines = [((c, 0.05), (o, 0.95)) for o in range(channels)
                 for c in range(o // size * size, (o // size + 1) * size)]
        ax.add_collection(LineCollection(lines, colors=colors[[c for (c, _), _ in lines]],
                                         lw=0.6, alpha=0.6, gid="connections"))
        ax.scatter(range(channels), [0] * channels, c=colors, marker="s", s=12, zorder=3)
        ax.scatter(range(channels), [1] * channels, c=colors, marker="o", s=12, zorder=3)
        params = costs.conv2d((1, 1, channels), channels, k, groups=g, use_bias=False).params
        ax.set_title(f"{g} segment{'s' * (g > 1)}: {names.get(g, 'Inception-like')}", fontsize=9, y=1.0)
        ax.text((channels - 1) / 2, -0.12, f"each {k}×{k} filter sees {size} of {channels} channels\n"
                f"{count(params)} params", ha="center", va="top", fontsize=8, gid="segment-cost")
        ax.set(xlim=(-1, channels), ylim=(-0.1, 1.1))
        ax.axis("off")
    fig.text(0.5, 0.93, "bottom: channels after the 1×1 convolution; top: spatial filters",
             ha="center", fontsize=9)
    return fig


def _box(ax, x, y, text, color="white", gid=None, dashed=False):
    return ax.text(x, y, text, ha="center", va="center", fontsize=7.5, gid=gid,
            bbox=dict(boxstyle="round,pad=0.35", fc=color, ec="0.6" if dashed else "0.3",
                      ls="--" if dashed else "-"))


def _shown(n):
    """Indices to draw out of ``n`` (the first few and the last) and whether "..." is needed."""
    return (list(range(n)), False) if n <= SHOWN else (list(range(SHOWN - 1)) + [n - 1], True)


def _branches_layout(n_shown: int, dots: bool):
    """The boxes, links and titles of :func:`branches_vs_grouped` for ``n_shown`` branches
    (``dots``: a "..." before the last one), texts left blank for the caller to fill."""

    def build(fig):
        ax_b, ax_g = fig.subplots(1, 2)
        xs = np.linspace(0.15, 0.85, n_shown) if n_shown > 1 else [0.5]
        art = {"xs": xs, "branch_1x1": [], "branch_kxk": [], "group": [], "segment": []}
        lines_b, lines_g = [], [((0.5, 0.88), (0.5, 0.74))]
        art["input_b"] = _box(ax_b, 0.5, 0.92, "")
        art["input_g"] = _box(ax_g, 0.5, 0.92, "")
        art["reduce"] = _box(ax_g, 0.5, 0.7, "")
        for x in xs:
            art["branch_1x1"].append(_box(ax_b, x, 0.62, "", gid="branch"))
            art["branch_kxk"].append(_box(ax_b, x, 0.36, ""))
            lines_b += [((0.5, 0.88), (x, 0.68)), ((x, 0.56), (x, 0.42)), ((x, 0.3), (0.5, 0.12))]
            art["segment"].append(ax_g.add_patch(Rectangle((x - 0.06, 0.55), 0.12, 0.05, ec="0.3",
                                                           gid="segment")))
            art["group"].append(_box(ax_g, x, 0.36, "", gid="group"))
            lines_g += [((0.5, 0.66), (x, 0.6)), ((x, 0.55), (x, 0.42)), ((x, 0.3), (0.5, 0.12))]
        if dots:
            ax_b.text((xs[-2] + xs[-1]) / 2, 0.5, "…", ha="center", fontsize=12)
            ax_g.text((xs[-2] + xs[-1]) / 2, 0.4, "…", ha="center", fontsize=12)
        art["concat_b"] = _box(ax_b, 0.5, 0.08, "")
        art["concat_g"] = _box(ax_g, 0.5, 0.08, "")
        ax_b.add_collection(LineCollection(lines_b, colors="0.4", lw=0.8))
        ax_g.add_collection(LineCollection(lines_g, colors="0.4", lw=0.8))
        for ax in (ax_b, ax_g):
            ax.set(xlim=(0, 1), ylim=(0, 1))
            ax.axis("off")
        art["title_b"] = ax_b.set_title(" ", fontsize=9, y=1.0)
        art["title_g"] = ax_g.set_title(" ", fontsize=9, y=1.0)
        return art

    return build


def branches_vs_grouped(input_shape, filters, segments, kernel_size=3, *, fig=None, figsize=(10, 4)):
    """One module drawn twice: ``segments`` branches (1x1 then k×k each, concatenated) and
    one 1x1 convolution to ``filters`` channels, then k×k convolutions over ``segments`` groups.

    The branches' costs are summed branch by branch; the grouped form's come from
    :func:`convviz.core.spectrum.segment_costs`. They are equal: same weights, same computation.
    """
    h, w, c_in = input_shape
    k, g = kernel_size, segments
    grouped = spectrum.segment_costs(input_shape, filters, k, g, use_bias=False)
    part = filters // g
    branch = [costs.conv2d(input_shape, part, 1, use_bias=False),
              costs.conv2d((h, w, part), part, k, use_bias=False)]
    branch_params = g * sum(step.params for step in branch)
    branch_mult_adds = g * sum(step.mult_adds for step in branch)
    shown, dots = _shown(g)
    fig, art = reuse(fig, figsize, ("branches_vs_grouped", len(shown), dots),
                     _branches_layout(len(shown), dots),
                     left=0.02, right=0.98, bottom=0.02, top=0.8, wspace=0.08)
    for name in ("input_b", "input_g"):
        art[name].set_text(f"input {h}×{w}×{c_in}")
    art["reduce"].set_text(f"one 1×1 conv {c_in}→{filters}")
    for j, i in enumerate(shown):
        color = f"C{i % 10}"
        art["branch_1x1"][j].set_text(f"1×1 conv\n{c_in}→{part}")
        for box in (art["branch_kxk"][j], art["group"][j]):
            box.set_text(f"{k}×{k} conv\n{part}→{part}")
        for box in (art["branch_1x1"][j], art["branch_kxk"][j], art["group"][j]):
            box.get_bbox_patch().set_facecolor(color)
        art["segment"][j].set_facecolor(color)
    for name in ("concat_b", "concat_g"):
        art[name].set_text(f"concatenate → {filters}")
    art["title_b"].set_text(f"{g} branch{'es' * (g > 1)}\nparams {count(branch_params)}, "
                            f"mult-adds {count(branch_mult_adds)}")
    art["title_g"].set_text(f"1×1, then {k}×{k} over {g} segment{'s' * (g > 1)} (groups={g})\n"
                            f"params {count(grouped.params)}, mult-adds {count(grouped.mult_adds)}")
    same = branch_params == grouped.params and branch_mult_adds == grouped.mult_adds
    fig.suptitle("the same computation" + (", the same cost" if same else ""), fontsize=10)
    return fig


def extreme_inception(input_shape, filters, kernel_size=3, *, fig=None, figsize=(9, 4.2)):
    """"Extreme" Inception (1x1, ReLU, one k×k per channel) beside a depthwise separable
    convolution (k×k per channel, no activation, 1x1), the two differences marked:
    (1) the order of the 1x1 and the k×k step, (2) an activation between them or not.
    Costs from :func:`convviz.core.spectrum.segment_costs`.
    """
    h, w, c_in = input_shape
    k = kernel_size
    extreme = spectrum.segment_costs(input_shape, filters, k, filters, order="pointwise_first",
                                     nonlinearity=True, use_bias=False)
    separable = spectrum.segment_costs(input_shape, filters, k, c_in, order="spatial_first",
                                       nonlinearity=False, use_bias=False)
    fig = new_figure(fig, figsize, left=0.01, right=0.99, bottom=0.02, top=0.84, wspace=0.02)
    ax_e, ax_d, ax_s = fig.subplots(1, 3, width_ratios=[1, 0.7, 1])
    pointwise, spatial = "#fdae6b", "#a1d99b"
    steps = {
        ax_e: [(f"1×1 conv {c_in}→{filters}", pointwise, False),
               ("ReLU", "#fcbba1", False),
               (f"{k}×{k} conv per channel\n({filters} segments)", spatial, False)],
        ax_s: [(f"{k}×{k} depthwise\nper channel ({c_in})", spatial, False),
               ("no activation", "white", True),
               (f"1×1 pointwise {c_in}→{filters}", pointwise, False)],
    }
    for ax, cost, title in ((ax_e, extreme, "extreme Inception"), (ax_s, separable, "depthwise separable")):
        _box(ax, 0.5, 0.92, f"input {h}×{w}×{c_in}")
        for y, (text, color, dashed) in zip((0.7, 0.5, 0.3), steps[ax]):
            _box(ax, 0.5, y, text, color, dashed=dashed)
        _box(ax, 0.5, 0.08, f"output {h}×{w}×{filters}")
        ax.add_collection(LineCollection([((0.5, y - 0.05), (0.5, y - 0.15)) for y in (0.92, 0.7, 0.5, 0.3)],
                                         colors="0.4", lw=0.8))
        ax.set_title(f"{title}\nparams {count(cost.params)}, mult-adds {count(cost.mult_adds)}",
                     fontsize=9, y=1.0)
    for y, text in ((0.62, f"① order:\n1×1 first  |  {k}×{k} first"),
                    (0.42, "② between the steps:\nReLU  |  nothing")):
        ax_d.text(0.5, y, text, color="C3", fontsize=8, ha="center", va="center", gid="difference")
    for ax in (ax_e, ax_d, ax_s):
        ax.set(xlim=(0, 1), ylim=(0, 1))
        ax.axis("off")
    fig.suptitle("two differences, and otherwise the same idea", fontsize=10)
    return fig
