"""`towerwidgets codegen`: both modules from stored configs, one-line errors."""

from __future__ import annotations

import ast

from codegen_helpers import feature_configs, model_config

from towerwidgets.cli import main


def _stored(store, model_type="ranking"):
    fc = feature_configs()["rich"].copy_as_new()
    mc = model_config("standard", model_type).copy_as_new()
    store.feature_configs.create(fc)
    store.model_configs.create(mc)
    return fc, mc


def test_codegen_writes_transform_and_trainer_modules(store, tmp_path, capsys):
    fc, mc = _stored(store)
    out = tmp_path / "modules"
    argv = [
        "--store",
        str(tmp_path / "store.db"),
        "codegen",
        "--feature-config",
        str(fc.id),
        "--model-config",
        str(mc.id),
        "--rating-column",
        "rating",
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    transform = (out / "transform.py").read_text()
    trainer = (out / "trainer.py").read_text()
    ast.parse(transform)
    ast.parse(trainer)
    assert "def preprocessing_fn(inputs):" in transform
    assert "def run_fn(fn_args):" in trainer
    assert f"(ID: {mc.id})" in trainer
    printed = capsys.readouterr().out
    assert "transform.py" in printed and "trainer.py" in printed


def test_codegen_reports_incompatible_configs_in_one_line(store, tmp_path, capsys):
    fc, mc = _stored(store)
    argv = [
        "--store",
        str(tmp_path / "store.db"),
        "codegen",
        "--feature-config",
        str(fc.id),
        "--model-config",
        str(mc.id),
        "-o",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "needs a rating column" in err
    assert not (tmp_path / "out").exists()


def test_codegen_unknown_config_id(store, tmp_path, capsys):
    argv = ["--store", str(tmp_path / "store.db"), "codegen", "--feature-config", "99"]
    argv += ["--model-config", "98", "-o", str(tmp_path / "out")]
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith("error: ")
