"""Shared fixtures: a fresh store per test, never the user's default one."""

from __future__ import annotations

import os

import pytest

# Tests must not write to a developer's ./.towerwidgets store by accident.
os.environ.setdefault("TOWERWIDGETS_STORE", "")


@pytest.fixture
def store(tmp_path):
    from towerwidgets.store import Store

    s = Store(tmp_path / "store.db")
    yield s
    s.close()


@pytest.fixture
def add_quick_test():
    """``add_quick_test(store, fc, mc)``: a pending QuickTest record for two stored configs."""
    from towerwidgets.config import QuickTest

    def add(store, fc, mc):
        return store.quick_tests.create(
            QuickTest(
                feature_config_id=fc.id,
                model_config_id=mc.id,
                feature_config_snapshot=fc.to_dict(),
                model_config_snapshot=mc.to_dict(),
            )
        )

    return add


@pytest.fixture(scope="session")
def _session_home(tmp_path_factory):
    return tmp_path_factory.mktemp("towerwidgets-home")


@pytest.fixture(autouse=True)
def _isolated_default_store(tmp_path, monkeypatch, _session_home):
    """The default store and home (runs, exports, transform cache) live in temp folders,
    never in the checkout's ./.towerwidgets."""
    monkeypatch.setenv("TOWERWIDGETS_STORE", str(tmp_path / "default-store.db"))
    monkeypatch.setenv("TOWERWIDGETS_HOME", str(_session_home))


def pytest_terminal_summary(terminalreporter):
    """Figures tests report for people to read (e.g. the TFX run beside the quick test),
    also from xdist workers (they travel as user_properties)."""
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for key, value in getattr(report, "user_properties", [])
        if key == "tfx_vs_quicktest" and getattr(report, "when", "") == "call"
    ]
    if lines:
        terminalreporter.section("TFX run vs quick test (same data, split and seed)")
        for line in lines:
            terminalreporter.line(line)
