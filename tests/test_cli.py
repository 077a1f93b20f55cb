"""The command line: each command, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from towerwidgets.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "towerwidgets.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("presets", "configs", "codegen", "demo", "quicktest"):
        assert command in result.stdout


def test_presets(capsys):
    code, out, _ = run(capsys, "presets")
    assert code == 0
    from towerwidgets.config import ModelConfig
    from towerwidgets.runner.estimates import estimate_quick_test, format_duration

    deep = estimate_quick_test(None, ModelConfig.from_preset("deep")).seconds
    assert "Asymmetric" in out and "256→128→64" in out
    assert f"Deep {format_duration(deep, approx=True):>16}" in out  # the one estimate
    code, out, _ = run(capsys, "presets", "--json")
    assert set(json.loads(out)) == {"minimal", "standard", "deep", "asymmetric", "regularized"}


def test_configs_create_list_show_clone_delete(capsys, tmp_path):
    db = str(tmp_path / "cli.db")
    code, out, _ = run(
        capsys,
        "--store",
        db,
        "configs",
        "create",
        "--preset",
        "asymmetric",
        "--name",
        "Deep Asymmetric v2",
    )
    assert code == 0 and "Created model config #1" in out and "256→128→64" in out
    code, out, _ = run(capsys, "--store", db, "configs", "list")
    assert "Deep Asymmetric v2" in out
    code, out, _ = run(capsys, "--store", db, "configs", "show", "1", "--json")
    assert json.loads(out)["output_embedding_dim"] == 64
    code, out, _ = run(capsys, "--store", db, "configs", "clone", "1")
    assert "Cloned #1 as #2 'Deep Asymmetric v2 (copy)'" in out
    code, out, _ = run(capsys, "--store", db, "configs", "delete", "2")
    assert code == 0 and "Deleted model config #2" in out
    code, out, _ = run(capsys, "--store", db, "configs", "list")
    assert "(copy)" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["configs", "show", "7"], "error: Model config 7 does not exist"),
        (["configs", "delete", "7"], "error: Model config 7 does not exist"),
    ],
)
def test_errors_are_one_line_without_traceback(capsys, tmp_path, argv, message):
    code, _out, err = run(capsys, "--store", str(tmp_path / "e.db"), *argv)
    assert code == 1
    assert err.strip() == message
    assert "Traceback" not in err


def test_corrupt_store_is_one_line(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("garbage" * 50)
    result = subprocess.run(
        [sys.executable, "-m", "towerwidgets.cli", "--store", str(bad), "configs", "list"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: Cannot open:") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_preset_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["configs", "create", "--preset", "huge", "--name", "x"])
    assert info.value.code == 2
