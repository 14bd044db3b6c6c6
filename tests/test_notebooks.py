"""Every notebook under notebooks/ runs top to bottom on a fresh kernel in the quick profile,
and every committed notebook renders cleanly on GitHub."""
from pathlib import Path

import pytest

from convviz import notebooks as nbtools

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_cifar10.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_clean(path):
    assert nbtools.problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_names_the_default_profile(path):
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and 'PROFILE = "class"' in tagged[0].source


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_quick_profile(path, tmp_path, cifar10_dir, monkeypatch):
    import shutil

    monkeypatch.setenv("CONVVIZ_CIFAR10", str(cifar10_dir))
    monkeypatch.setenv("CONVVIZ_RUNS", str(tmp_path / "runs"))
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    # nbclient raises CellExecutionError, naming the cell, on the first error.
    timings = tmp_path / "cells.json"
    nbtools.run(copy, profile="quick", timeout=900, cwd=ROOT / "notebooks", timings=timings)
    assert nbtools.problems(copy) == []
    # the benchmark's per-cell times: one row per code cell, in order
    import json

    import nbformat

    code = [i for i, c in enumerate(nbformat.read(str(copy), as_version=4).cells)
            if c.cell_type == "code"]
    cells = json.loads(timings.read_text())
    assert [c[0] for c in cells] == code and all(c[1] >= 0 for c in cells)
