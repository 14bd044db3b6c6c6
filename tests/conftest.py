"""Shared fixtures. Tests never download CIFAR-10 and never write it into the repo."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CIFAR10_TOOL = REPO.parent / "shared" / "tools" / "cifar10_batches.py"


@pytest.fixture(scope="session")
def cifar10_dir(tmp_path_factory) -> Path:
    """A ``cifar-10-batches-py`` folder with real CIFAR-10 images.

    CONVVIZ_CIFAR10 if set (any form load_cifar10 accepts); else a class-balanced
    2000/500 subset written by ``../shared/tools/cifar10_batches.py`` into a
    temporary folder; else the test is skipped.
    """
    env = os.environ.get("CONVVIZ_CIFAR10", "").strip()
    if env:
        from convviz.data import _resolve

        return _resolve(Path(env), "CONVVIZ_CIFAR10")[0]
    if not CIFAR10_TOOL.is_file():
        pytest.skip(f"no CIFAR-10 copy: CONVVIZ_CIFAR10 is not set and {CIFAR10_TOOL} "
                    "does not exist (no ../shared next to the repo); tests never download")
    out = tmp_path_factory.mktemp("cifar10")
    run = subprocess.run([sys.executable, str(CIFAR10_TOOL), str(out),
                          "--train", "2000", "--test", "500"],
                         capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        pytest.fail(f"{CIFAR10_TOOL} failed ({run.returncode}):\n{run.stderr}")
    return Path(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def cifar10_env(cifar10_dir, monkeypatch) -> Path:
    """Point CONVVIZ_CIFAR10 at ``cifar10_dir`` for one test (subprocesses inherit it)."""
    monkeypatch.setenv("CONVVIZ_CIFAR10", str(cifar10_dir))
    return cifar10_dir
