"""The wheel carries the front-end bundle, and the widgets import from the wheel alone."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_the_bundle_and_imports_alone(tmp_path):
    if shutil.which("npm") is None and not (ROOT / "towerwidgets/static/widget.js").exists():
        pytest.skip("needs npm (or a prebuilt towerwidgets/static/widget.js)")
    out = tmp_path / "dist"
    try:
        import build  # noqa: F401

        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)]
    except ImportError:  # pip can build it too
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
        ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [wheel] = out.glob("towerwidgets-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "towerwidgets/static/widget.js" in names
        assert "towerwidgets/static/widget.css" in names
        assert zf.getinfo("towerwidgets/static/widget.js").file_size > 10_000
        zf.extractall(tmp_path / "site")
    code = (
        "import pathlib, towerwidgets, towerwidgets.widgets as w\n"
        "assert pathlib.Path(towerwidgets.__file__).is_relative_to(pathlib.Path.cwd()), towerwidgets.__file__\n"
        "assert 'export' in w.ModelWizard()._esm or 'render' in w.ModelWizard()._esm\n"
        "assert 'bundle is missing' not in w.ModelWizard()._esm\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path / "site",
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(tmp_path / "site"),
            "TOWERWIDGETS_STORE": str(tmp_path / "s.db"),
            "HOME": str(tmp_path),
        },
    )
