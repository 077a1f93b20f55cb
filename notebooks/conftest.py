"""nbval runs these notebooks in kernels that inherit this process's environment: give them
a throwaway store and run directory, so a test run never writes into a developer's
``./.towerwidgets``, and let them import the package from this checkout."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
_TMP = tempfile.mkdtemp(prefix="towerwidgets-notebooks-")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

os.environ["TOWERWIDGETS_STORE"] = os.path.join(_TMP, "store.db")
os.environ["TOWERWIDGETS_HOME"] = os.path.join(_TMP, "home")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(_REPO), os.environ.get("PYTHONPATH", "")) if p
)
