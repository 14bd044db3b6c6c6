"""convviz on the command line: the cost table and the receptive fields of a model.

    convviz costs SPEC [--json] [--flops] [--no-bias] [--batchnorm {all,trainable,none}]
    convviz rf SPEC [--layer NAME] [--json]

SPEC names a model: a ``keras.applications`` constructor with options
(``MobileNet:alpha=0.5,input=160``, built with weights=None), a teaching model
(``baseline:width=16``) or a saved ``.keras`` file. See
``convviz.models.applications``. Bad input prints one line,
``convviz: error: ...``, and exits with status 2.

JSON output (``--json``)
------------------------
``costs``: one object with

- ``spec`` (str), ``model`` (the Keras model name), ``unit`` (``"mult_adds"`` or ``"flops"``);
- ``conventions``: ``include_bias`` (bool), ``include_batchnorm`` (``true`` = all four
  parameters per channel as Keras counts them, ``"trainable"`` = gamma and beta,
  ``false`` = none), ``allow_gaps`` (bool);
- ``total_params``, ``total_mult_adds``, ``total_flops`` (ints; FLOPs = 2 x mult-adds;
  unknown layers are left out of the mult-adds);
- ``layers``: one object per layer call, in topological order: ``name`` (nested models
  as ``outer/inner``), ``type`` (Keras class), ``output_shape`` (list, no batch),
  ``params``, ``mult_adds`` (null for an unknown layer), ``share`` (fraction of the
  total mult-adds, or null), ``params_share`` (fraction of the total params), ``note``,
  and ``flops`` with ``--flops``;
- ``by_kind``: MobileNet Table 2's breakdown, largest first: ``kind`` (``"Conv 1x1"``,
  ``"Conv DW 3x3"``, ``"Conv 3x3"``, ``"Fully connected"``, ...), ``mult_adds``,
  ``params``, ``mult_adds_share``, ``params_share`` (fractions);
- ``unknown``: names of layers without a cost formula.

``rf``: one object with ``spec``, ``model`` and ``layers``: per layer call ``name``,
``type``, ``output_shape``, ``size``, ``stride``, ``padding`` (``[rows, cols]`` in input
pixels, null when unknown), ``aligned`` (bool: the branches of a merge line up) and ``note``.

Warnings (unknown layers, strides that skip input) go to stderr as ``convviz: warning: ...``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

BATCHNORM = {"all": True, "trainable": "trainable", "none": False}


def _parser() -> argparse.ArgumentParser:
    doc = __doc__.split("JSON output")
    parser = argparse.ArgumentParser(
        prog="convviz", description=doc[0], epilog="JSON output" + doc[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{costs,rf}")
    costs = sub.add_parser("costs", help="parameters and mult-adds per layer, totals, by kind")
    costs.add_argument("spec", metavar="SPEC", help="model name[:key=value,...] or a .keras file")
    costs.add_argument("--json", action="store_true", help="print JSON (keys: see convviz -h)")
    costs.add_argument("--flops", action="store_true", help="show FLOPs (2 per mult-add)")
    costs.add_argument("--no-bias", action="store_true", help="leave bias parameters out")
    costs.add_argument("--batchnorm", choices=sorted(BATCHNORM), default="all",
                       help="batch-norm parameters counted: all four per channel (Keras, "
                            "default), trainable (gamma, beta: Xception paper), none "
                            "(MobileNet paper)")
    rf = sub.add_parser("rf", help="receptive field of every layer")
    rf.add_argument("spec", metavar="SPEC", help="model name[:key=value,...] or a .keras file")
    rf.add_argument("--layer", metavar="NAME", help="only this layer")
    rf.add_argument("--json", action="store_true", help="print JSON (keys: see convviz -h)")
    return parser


def _table(rows: list[dict], columns: list[str]) -> str:
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines.append("-" * len(lines[0]))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _costs(args, model) -> str:
    from convviz.models.reader import model_costs

    report = model_costs(model, unit="flops" if args.flops else "mult_adds",
                         include_bias=not args.no_bias,
                         include_batchnorm=BATCHNORM[args.batchnorm])
    if args.json:
        return json.dumps({"spec": args.spec, **report.to_dict()}, indent=1)
    return report.to_text()


def _rf(args, model) -> str:
    try:
        from convviz.models.receptive import rf_table
    except ImportError as err:
        raise ValueError(f"receptive fields are not available here ({err})") from None
    rows = rf_table(model, layer=args.layer)
    if args.json:
        return json.dumps({"spec": args.spec, "model": model.name, "layers": rows},
                          indent=1, default=list)
    columns = ["name", "type", "output_shape", "size", "stride", "padding", "aligned", "note"]
    return f"Model: {model.name}\n" + _table(rows, columns)


def main(argv=None) -> int:
    """Entry point of the ``convviz`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            from convviz.models.applications import build

            model = build(args.spec)
            text = _costs(args, model) if args.command == "costs" else _rf(args, model)
    except (ValueError, OSError) as err:
        print(f"convviz: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    for w in caught:
        if issubclass(w.category, UserWarning):
            print(f"convviz: warning: {w.message}", file=sys.stderr)
    try:
        print(text)
    except BrokenPipeError:  # `convviz costs X | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
