"""Where ``Store()`` keeps data when nothing says otherwise, and how to set it once."""

from __future__ import annotations

import os

import towerwidgets as tw
from towerwidgets.store import store as store_module


def test_an_unconfigured_store_says_where_it_writes_once(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TOWERWIDGETS_STORE")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(store_module, "_announced", set())
    tw.Store().close()
    tw.Store().close()
    out = capsys.readouterr().out
    expected = str(tmp_path / ".towerwidgets" / "towerwidgets.db")
    assert out.count("towerwidgets: configs and quick tests are stored in") == 1
    assert expected in out and "tw.set_default_store" in out


def test_set_default_store_is_absolute_and_used_by_every_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = tw.set_default_store("data/tw.db", home="runs")
    assert os.environ["TOWERWIDGETS_STORE"] == str(tmp_path / "data" / "tw.db")
    assert os.environ["TOWERWIDGETS_HOME"] == str(tmp_path / "runs")
    monkeypatch.chdir(tmp_path.parent)  # a later chdir does not move the store
    (tmp_path / "data").mkdir()
    with tw.Store() as store:
        assert store.url == url and store.location == str(tmp_path / "data" / "tw.db")
    assert "stored in" not in capsys.readouterr().out  # configured: nothing to announce
