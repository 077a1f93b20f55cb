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


@pytest.fixture(autouse=True)
def _isolated_default_store(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWERWIDGETS_STORE", str(tmp_path / "default-store.db"))
