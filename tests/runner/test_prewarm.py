"""Pre-warm: the spare worker starts when a QuickTestPanel is shown in a kernel, once per
process, opt-out with TOWERWIDGETS_PREWARM=0, and leaves on its own when nobody uses it.

No timing: waits are on events (a process exit, the spare's ``ready`` line) and "warm" is
the worker's own fact that no job was waiting when its imports ended.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from runner_helpers import generated_code, model_config

from towerwidgets.runner import backends, start_quick_test, warm
from towerwidgets.runner.backends import LocalBackend


@pytest.fixture
def clean(monkeypatch):
    monkeypatch.setattr(backends, "available_memory_mb", lambda: 64_000.0)
    monkeypatch.delenv(warm.PREWARM_ENV, raising=False)
    LocalBackend.shutdown()
    warm._reset_for_tests()
    yield
    LocalBackend.shutdown()
    warm._reset_for_tests()


def test_importing_towerwidgets_starts_nothing_and_loads_no_prewarm_code():
    code = (
        "import sys, towerwidgets, towerwidgets.runner;"
        "print(sorted(m for m in sys.modules if m.startswith('towerwidgets.runner.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "towerwidgets.runner.warm" not in out.stdout
    assert "towerwidgets.runner.backends" not in out.stdout


@pytest.mark.slow
def test_the_display_hook_starts_one_niced_spare_once(clean):
    pid = warm.prewarm_on_display(force=True)
    assert pid is not None and LocalBackend.spare_pid() == pid
    assert "--warm-nice" in LocalBackend._spare.args  # nobody waits for it yet: low priority
    assert "--idle-timeout" in LocalBackend._spare.args  # and it leaves when unused
    assert warm.prewarm_on_display(force=True) is None  # a second panel: nothing new
    LocalBackend().prewarm()  # the first test's own prewarm finds it alive
    assert LocalBackend.spare_pid() == pid


def test_outside_a_kernel_the_display_hook_does_nothing(clean):
    assert not warm._in_kernel()  # pytest is no Jupyter kernel
    assert warm.prewarm_on_display() is None
    assert LocalBackend.spare_pid() is None


@pytest.mark.parametrize("value", ["0", "false", "OFF", " no "])
def test_the_environment_variable_turns_it_off(clean, monkeypatch, value):
    monkeypatch.setenv(warm.PREWARM_ENV, value)
    assert not warm.prewarm_enabled()
    assert warm.prewarm_on_display(force=True) is None
    assert warm.prewarm() is None
    assert LocalBackend.spare_pid() is None


def test_a_panel_in_a_kernel_prewarms_and_one_outside_does_not(clean, monkeypatch, tmp_path):
    from towerwidgets.store import Store
    from towerwidgets.widgets import QuickTestPanel

    started = []
    monkeypatch.setattr(warm, "prewarm", lambda: started.append(1) or 4242)
    store = Store(tmp_path / "panel.db")
    QuickTestPanel(store)
    assert started == []  # not in a kernel
    monkeypatch.setattr(warm, "_in_kernel", lambda: True)
    QuickTestPanel(store)
    QuickTestPanel(store)
    assert started == [1]  # once per process
    monkeypatch.setenv(warm.PREWARM_ENV, "0")
    warm._reset_for_tests()
    QuickTestPanel(store)
    assert started == [1]  # opted out
    store.close()


@pytest.mark.slow
def test_an_unused_prewarmed_worker_is_released_after_its_idle_timeout(clean):
    pid = warm.prewarm(idle_timeout=0.5)
    spare = LocalBackend._spare
    assert spare is not None and spare.pid == pid
    assert spare.wait(300) == 0  # it imported, waited 0.5 s for a job, and exited by itself
    assert LocalBackend.spare_pid() is None


@pytest.mark.slow
def test_the_first_quick_test_after_display_runs_on_the_prewarmed_worker(
    clean, store, home, tiny_data, feature_config
):
    pid = warm.prewarm_on_display(force=True)
    backend = LocalBackend()
    assert backend.wait_until_warm(300)  # the user was still reading the panel
    mc = model_config("retrieval", epochs=1)
    handle = start_quick_test(
        feature_config,
        mc,
        tiny_data,
        store=store,
        home=home,
        backend=backend,
        code=generated_code(feature_config, mc),
    )
    record = handle.wait(300)
    assert record.status == "completed", record.error_message
    assert record.worker_pid == pid
    assert handle.facts["worker_warm"] is True


@pytest.mark.slow
def test_in_a_real_kernel_a_panel_starts_the_spare_and_the_variable_stops_it(tmp_path):
    """A real ipykernel: the hook's kernel check holds there, the panel starts one spare,
    and with TOWERWIDGETS_PREWARM=0 the same code starts none."""
    import os
    from pathlib import Path

    from jupyter_client.manager import start_new_kernel

    root = str(Path(__file__).resolve().parents[2])
    code = (
        "from towerwidgets.runner import warm\n"
        "from towerwidgets.runner.backends import LocalBackend\n"
        "from towerwidgets.store import Store\n"
        "from towerwidgets.widgets import QuickTestPanel\n"
        f"store = Store({str(tmp_path / 'k.db')!r})\n"
        "QuickTestPanel(store); first = LocalBackend.spare_pid()\n"
        "QuickTestPanel(store); second = LocalBackend.spare_pid()\n"
        "print('RESULT', warm._in_kernel(), first is not None, second is not None,"
        " first == second)\n"
        "LocalBackend.shutdown()\n"
    )

    def run(prewarm: str) -> str:
        env = {**os.environ, "PYTHONPATH": root, warm.PREWARM_ENV: prewarm}
        env["TOWERWIDGETS_HOME"] = str(tmp_path / "home")
        manager, client = start_new_kernel(kernel_name="python3", env=env)
        try:
            lines: list[str] = []
            reply = client.execute_interactive(
                code,
                timeout=300,
                output_hook=lambda msg: lines.append(msg["content"].get("text", "")),
            )
            assert reply["content"]["status"] == "ok", reply["content"]
            return "".join(lines)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)

    assert "RESULT True True True True" in run("1")  # in a kernel; one spare for two panels
    assert "RESULT True False False True" in run("0")  # opted out: none
