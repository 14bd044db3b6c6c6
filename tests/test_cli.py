"""``convviz costs`` and ``convviz rf``: SPEC parsing, the table, the JSON, the errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

from convviz import cli  # noqa: E402
from convviz.models import applications  # noqa: E402

SMALL = "MobileNet:alpha=0.25,input=128"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------ SPEC parsing (no Keras)
def test_parse_spec():
    assert applications.parse_spec("MobileNet:alpha=0.5,input=160") == (
        "MobileNet", {"alpha": 0.5, "input": 160})
    assert applications.parse_spec(" VGG16 ") == ("VGG16", {})
    assert applications.parse_spec("X:include_top=false,pooling=avg,classes=10,p=none") == (
        "X", {"include_top": False, "pooling": "avg", "classes": 10, "p": None})
    for bad in ("", "MobileNet:alpha", "MobileNet:=3", "MobileNet:alpha="):
        with pytest.raises(ValueError, match="spec"):
            applications.parse_spec(bad)


def test_input_sizes():
    assert applications.input_shape(160) == (160, 160, 3)
    assert applications.input_shape("160x120") == (160, 120, 3)
    assert applications.input_shape("32x32x1") == (32, 32, 1)
    for bad in (0, "ax3", "1x2x3x4", -5, True):
        with pytest.raises(ValueError, match="input"):
            applications.input_shape(bad)


# ------------------------------------------------------------ costs
def test_costs_json_matches_the_reader_and_documents_its_keys(capsys):
    from convviz.models.reader import model_costs

    code, out, _ = run(capsys, "costs", SMALL, "--json", "--batchnorm", "none")
    assert code == 0
    data = json.loads(out)
    for key in ("spec", "model", "unit", "conventions", "total_params", "total_mult_adds",
                "total_flops", "layers", "by_kind", "unknown"):
        assert key in data and f"``{key}``" in cli.__doc__
    for key in data["layers"][0]:
        assert f"``{key}``" in cli.__doc__
    report = model_costs(applications.build(SMALL), include_batchnorm=False)
    assert (data["total_params"], data["total_mult_adds"]) == (report.total_params,
                                                               report.total_mult_adds)
    assert data["conventions"]["include_batchnorm"] is False
    assert data["spec"] == SMALL and data["model"] == "mobilenet_0.25_128"


def test_costs_table_and_conventions(capsys):
    code, out, _ = run(capsys, "costs", SMALL)
    assert code == 0
    assert "Total params" in out and "Conv DW 3x3" in out and "conv_pw_13" in out
    _, trainable, _ = run(capsys, "costs", SMALL, "--batchnorm", "trainable", "--no-bias",
                          "--flops", "--json")
    data = json.loads(trainable)
    assert data["unit"] == "flops" and data["conventions"]["include_batchnorm"] == "trainable"
    assert data["conventions"]["include_bias"] is False
    assert all(r["flops"] == 2 * r["mult_adds"] for r in data["layers"])


def test_costs_of_a_saved_keras_file(capsys, tmp_path):
    import keras

    x = keras.Input((12, 12, 3))
    model = keras.Model(x, keras.layers.Conv2D(5, 3, name="only")(x))
    path = tmp_path / "tiny.keras"
    model.save(path)
    code, out, _ = run(capsys, "costs", str(path), "--json")
    assert code == 0
    assert json.loads(out)["total_mult_adds"] == 10 * 10 * 27 * 5


def test_teaching_models_by_name_and_without_the_registry(capsys, monkeypatch):
    import keras

    def tiny(width=4, name="tiny"):
        if width < 1:
            raise ValueError(f"width must be positive; got {width}")
        x = keras.Input((8, 8, 3))
        return keras.Model(x, keras.layers.Conv2D(width, 1)(x), name=name)

    registry = types.ModuleType("convviz.models.teaching")
    registry.TEACHING_MODELS = {"tiny": tiny}
    monkeypatch.setitem(sys.modules, "convviz.models.teaching", registry)
    code, out, _ = run(capsys, "costs", "tiny:width=6", "--json")
    assert code == 0 and json.loads(out)["total_params"] == 3 * 6 + 6
    code, _, err = run(capsys, "costs", "tiny:depth=3")
    assert code == 2 and "width" in err and "name" in err
    monkeypatch.setitem(sys.modules, "convviz.models.teaching", None)  # module absent
    assert applications.teaching_models() == {}
    code, _, err = run(capsys, "costs", "tiny")
    assert code == 2 and "unknown model 'tiny'" in err
    assert run(capsys, "costs", SMALL)[0] == 0


@pytest.mark.parametrize("argv,expected", [
    (["costs", "NoSuchNet"], ["unknown model", "MobileNet", "Xception", ".keras"]),
    (["costs", "inceptionv3"], ["did you mean InceptionV3"]),
    (["costs", "MobileNet:beta=2"], ["beta", "alpha", "depth_multiplier", "input"]),
    (["costs", "MobileNet:weights=imagenet"], ["weights", "available"]),
    (["costs", "MobileNet:alpha"], ["key=value"]),
    (["costs", "MobileNet:input=0"], ["input"]),
    (["costs", "missing/model.keras"], ["does not exist"]),
    (["rf", SMALL, "--layer", "no_such_layer"], ["layer"]),
])
def test_errors_are_one_line_and_list_what_is_available(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.startswith("convviz:")]
    assert len(lines) == 1 and lines[0].startswith("convviz: error:"), err
    for word in expected:
        assert word in lines[0]


def test_argparse_errors_exit_2(capsys):
    for argv in (["costs"], ["costs", SMALL, "--batchnorm", "some"], ["frobnicate", SMALL]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 2
    capsys.readouterr()


def test_command_line_process_exits_2_without_traceback():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "convviz.cli", "costs", "VGG16:input=16"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "convviz: error:" in done.stderr and "32" in done.stderr  # keras: at least 32 px


# ------------------------------------------------------------ rf
def test_rf_json_rows(capsys):
    pytest.importorskip("convviz.models.receptive")
    code, out, _ = run(capsys, "rf", SMALL, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["spec"] == SMALL
    keys = {"name", "type", "output_shape", "size", "stride", "padding", "aligned", "note"}
    assert all(set(row) == keys for row in data["layers"])
    first_conv = next(r for r in data["layers"] if r["name"] == "conv1")
    assert first_conv["size"] == [3, 3] and first_conv["stride"] == [2, 2]
    code, out, _ = run(capsys, "rf", SMALL, "--layer", "conv1")
    assert code == 0 and "conv1" in out and "conv_pw_1" not in out


def test_rf_without_the_receptive_module(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "convviz.models.receptive", None)
    code, _, err = run(capsys, "rf", SMALL)
    assert code == 2 and "receptive fields are not available" in err
