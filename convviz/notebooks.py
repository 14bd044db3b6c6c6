"""Run, clean and check the walkthrough notebooks.

    python -m convviz.notebooks run   notebooks/*.ipynb [--profile class]   # execute in place, keep outputs
    python -m convviz.notebooks clean notebooks/*.ipynb                     # strip what GitHub cannot render
    python -m convviz.notebooks check notebooks/*.ipynb                     # exit 1 and list problems

A committed notebook keeps its outputs (it is read on GitHub) but carries no widget-state blob
(``metadata.widgets``), no machine paths and no error outputs.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

# Absolute paths that reveal a machine: home folders, temp folders, virtual environments.
MACHINE_PATH = re.compile(r"(/home/[^/\s'\"]+|/Users/[^/\s'\"]+|/root/|/tmp/|/work/|/private/var/|"
                          r"[A-Z]:\\\\Users\\\\|site-packages/)")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _read(path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def problems(path) -> list[str]:
    """What keeps a notebook from rendering cleanly on GitHub (empty when clean)."""
    nb = _read(path)
    found = []
    if "widgets" in nb.metadata:
        found.append("metadata.widgets holds widget state")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {i}: error output {out.get('ename')}: {out.get('evalue')}")
            if out.output_type == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i}: stderr output (a warning?): {out.text[:120]!r}")
            text = out.get("text", "") if out.output_type == "stream" else "\n".join(
                str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
            m = MACHINE_PATH.search(text)
            if m:
                found.append(f"cell {i}: machine path {m.group(0)!r} in output")
    return found


def clean(path) -> bool:
    """Strip widget state and per-machine metadata in place; True when the file changed."""
    import nbformat

    nb = _read(path)
    before = nbformat.writes(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata.get("kernelspec", {}).update(display_name="Python 3", name="python3")
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.output_type == "stream" and o.get("name") == "stderr")]
            for o in cell["outputs"]:
                data = o.get("data", {})
                if WIDGET_VIEW in data and len(data) > 1:
                    data.pop(WIDGET_VIEW)  # keep the text/plain or image fallback
    after = nbformat.writes(nb)
    if after != before:
        Path(path).write_text(after)
    return after != before


def cell_seconds(nb) -> list[tuple[int, float, str]]:
    """``(cell index, seconds, first line)`` of each executed code cell, from the execution
    timestamps nbclient records in the cell metadata (before :func:`clean` strips them)."""
    import datetime

    rows = []
    for i, cell in enumerate(nb.cells):
        times = cell.get("metadata", {}).get("execution", {})
        start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
        if cell.cell_type != "code" or not (start and end):
            continue
        seconds = (datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
                   - datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        rows.append((i, round(seconds, 1), first[:80]))
    return rows


def run(path, profile: str | None = None, timeout: int = 1800, cwd=None,
        timings=None) -> None:
    """Execute a notebook top to bottom on a fresh kernel and save it with its outputs.

    ``timings``: a path; the seconds each code cell took (:func:`cell_seconds`) are written
    there as JSON (the saved notebook does not keep them)."""
    import nbformat
    from nbclient import NotebookClient

    nb = _read(path)
    env_profile = os.environ.get("CONVVIZ_PROFILE")
    if profile:
        os.environ["CONVVIZ_PROFILE"] = profile
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(cwd or Path(path).parent)}})
        client.execute()
    finally:
        if profile:
            if env_profile is None:
                os.environ.pop("CONVVIZ_PROFILE", None)
            else:
                os.environ["CONVVIZ_PROFILE"] = env_profile
    if timings is not None:
        staged = Path(timings).with_name(f".{Path(timings).name}.tmp")
        staged.write_text(json.dumps(cell_seconds(nb)))
        os.replace(staged, timings)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, path)
    clean(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convviz.notebooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "clean", "check"])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--profile", choices=["quick", "class", "full"])
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds one cell may run (default 3600)")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        if args.command == "run":
            print(f"running {path} ...", flush=True)
            run(path, args.profile, timeout=args.timeout)
        elif args.command == "clean":
            print(f"{path}: {'cleaned' if clean(path) else 'already clean'}")
        else:
            found = problems(path)
            for p in found:
                print(f"{path}: {p}")
            status |= bool(found)
    return status


if __name__ == "__main__":
    sys.exit(main())
