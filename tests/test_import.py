"""`import towerwidgets` is light: no TensorFlow (its time is measured by
benchmarks/import_time.py, not asserted here)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_import_does_not_import_tensorflow():
    out = run(
        """
        import sys, towerwidgets
        heavy = [m for m in ("tensorflow", "tf_keras", "tensorflow_recommenders", "tensorflow_transform", "apache_beam", "keras") if m in sys.modules]
        print(heavy)
        """
    )
    assert out == "[]"


def test_kernel_side_modules_do_not_import_tensorflow():
    out = run(
        """
        import sys, towerwidgets
        towerwidgets.Store(":memory:" if False else "sqlite://")
        import towerwidgets.cli
        print([m for m in ("tensorflow", "tf_keras", "apache_beam") if m in sys.modules])
        """
    )
    assert out == "[]"
