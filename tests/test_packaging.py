"""The install story: pyproject.toml, environment.yml and binder/ name the same packages."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQ = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(.*)$")


def _pyproject_requirements() -> dict:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"]) + list(meta["optional-dependencies"]["test"])
    return {REQ.match(r).group(1).lower(): REQ.match(r).group(2).replace(" ", "") for r in reqs}


def _conda_requirements(path: Path) -> dict:
    out, section = {}, None
    for line in path.read_text().splitlines():
        if re.match(r"^\w", line):
            section = line.split(":")[0]
        m = re.match(r"^  - ([A-Za-z0-9_.\-]+)(\S*)\s*$", line)  # top-level conda deps only
        if section == "dependencies" and m and m.group(1) not in ("python", "pip"):
            out[m.group(1).lower()] = m.group(2)
    return out


def test_environment_yml_matches_pyproject():
    assert _conda_requirements(ROOT / "environment.yml") == _pyproject_requirements()


def test_binder_environment_is_the_root_one_with_cpu_tensorflow():
    root = _conda_requirements(ROOT / "environment.yml")
    binder = _conda_requirements(ROOT / "binder" / "environment.yml")
    expected = dict(root)
    expected["tensorflow-cpu"] = expected.pop("tensorflow")
    assert binder == expected


def test_environment_pins_python_311():
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        assert "  - python=3.11\n" in path.read_text(), path


def test_every_requirement_has_a_compatible_range():
    for name, spec in _pyproject_requirements().items():
        assert ">=" in spec and "<" in spec, f"{name} should be pinned to a range, got {spec!r}"


def test_ci_runs_exactly_the_readme_test_command():
    ci = [l for l in (ROOT / ".ci" / "run").read_text().splitlines()
          if l.strip() and not l.startswith("#") and not l.startswith("set ") and not l.startswith("cd ")]
    assert ci == ["make test"]
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make lab" in (ROOT / "README.md").read_text()


def test_importing_convviz_does_not_import_tensorflow():
    code = ("import sys, convviz, convviz.profiles; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
