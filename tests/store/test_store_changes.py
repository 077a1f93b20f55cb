"""Store change signals: told after commit, per database file, weakly held, never on rollback."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import textwrap
from datetime import datetime

import pytest
import sqlalchemy as sa

from towerwidgets import ModelConfig, Store
from towerwidgets.config import FeatureConfig
from towerwidgets.errors import NotFoundError, StoreError
from towerwidgets.store import StoreWatcher, changes, schema
from towerwidgets.store.store import _mark


class Recorder:
    def __init__(self):
        self.tables = []

    def __call__(self, table):
        self.tables.append(table)


def minimal(name="m"):
    return ModelConfig.from_preset("minimal", name=name)


def features():
    from towerwidgets.config import Feature

    return FeatureConfig(
        name="f",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[Feature(column="buyer_id", embedding_dim=8)],
        product_features=[Feature(column="product_id", embedding_dim=8)],
    )


@pytest.fixture
def quick_test(add_quick_test):
    """``quick_test(store)``: a pending test of a fresh feature and model config."""

    def make(store):
        fc = store.feature_configs.create(features())
        mc = store.model_configs.create(minimal())
        return add_quick_test(store, fc, mc)

    return make


def test_config_writes_notify_their_table_after_commit(store):
    seen = Recorder()
    store.on_change(seen)
    cfg = store.model_configs.create(minimal())
    assert seen.tables == ["model_configs"]
    cfg.description = "edited"
    store.model_configs.update(cfg)
    store.model_configs.clone(cfg.id)
    store.feature_configs.create(features())
    store.model_configs.delete(cfg.id)
    assert seen.tables == [
        "model_configs",
        "model_configs",
        "model_configs",
        "feature_configs",
        "model_configs",
    ]
    store.model_configs.list()
    store.model_configs.get(cfg.id + 1)
    assert len(seen.tables) == 5  # reads say nothing


def test_two_store_objects_on_one_file_share_listeners_and_others_do_not(tmp_path):
    one, two = Store(tmp_path / "a.db"), Store(str(tmp_path / "sub" / ".." / "a.db"))
    other = Store(tmp_path / "b.db")
    assert one.changes_key == two.changes_key != other.changes_key
    seen, elsewhere = Recorder(), Recorder()
    two.on_change(seen)
    other.on_change(elsewhere)
    one.model_configs.create(minimal())
    assert seen.tables == ["model_configs"] and elsewhere.tables == []
    for s in (one, two, other):
        s.close()


def test_tables_filter(store):
    seen = Recorder()
    store.on_change(seen, tables=["feature_configs"])
    store.model_configs.create(minimal())
    store.feature_configs.create(features())
    assert seen.tables == ["feature_configs"]
    with pytest.raises(ValueError, match="Unknown table"):
        store.on_change(seen, tables=["nope"])


def test_rolled_back_and_failed_writes_notify_nobody(store, quick_test):
    seen = Recorder()
    store.on_change(seen)
    test = quick_test(store)
    seen.tables.clear()
    with pytest.raises(StoreError, match="force=True"):  # fails inside the transaction
        store.model_configs.delete(test.model_config_id)
    with pytest.raises(NotFoundError):
        store.model_configs.update(minimal().model_copy(update={"id": 999}))
    with pytest.raises(NotFoundError):
        store.quick_tests.delete(999)
    with pytest.raises(RuntimeError), store.transaction("half a write") as conn:
        conn.execute(
            sa.insert(schema.model_configs).values(
                name="x",
                data="{}",
                model_type="retrieval",
                created_at=datetime.now(),
                updated_at=datetime.now(),
            )
        )
        _mark(conn, "model_configs")
        raise RuntimeError("boom")
    assert seen.tables == []
    assert len(store.model_configs.list()) == 1  # the half write was rolled back


def test_quick_tests_notify_on_create_status_and_delete_not_on_progress(store, quick_test):
    seen = Recorder()
    store.on_change(seen, tables=["quick_tests"])
    test = quick_test(store)
    assert seen.tables == ["quick_tests"]
    store.quick_tests.patch(test.id, progress_percent=10)
    store.quick_tests.append_epoch(test.id, {"epoch": 1, "loss": 0.5})
    test.progress_percent = 20
    store.quick_tests.update(test)
    assert seen.tables == ["quick_tests"]
    test.status = "running"
    store.quick_tests.update(test)
    store.quick_tests.patch(test.id, progress_percent=50)
    assert seen.tables == ["quick_tests"] * 2
    store.quick_tests.cancel(test.id)
    assert seen.tables == ["quick_tests"] * 3
    store.quick_tests.delete(test.id)
    assert seen.tables == ["quick_tests"] * 4


def test_force_delete_of_a_config_notifies_quick_tests_too(store, quick_test):
    test = quick_test(store)
    seen = Recorder()
    store.on_change(seen)
    store.model_configs.delete(test.model_config_id, force=True)
    assert sorted(seen.tables) == ["model_configs", "quick_tests"]


def test_a_failing_listener_is_logged_and_breaks_nothing(store, caplog):
    def broken(table):
        raise RuntimeError("listener bug")

    seen = Recorder()
    store.on_change(broken, weak=False)
    store.on_change(seen)
    with caplog.at_level(logging.ERROR, logger="towerwidgets.store.changes"):
        cfg = store.model_configs.create(minimal())
    assert cfg.id is not None and store.model_configs.get(cfg.id).name == "m"
    assert seen.tables == ["model_configs"]
    assert "listener bug" in caplog.text


def test_listeners_are_held_weakly_and_can_be_cancelled(store):
    seen = Recorder()
    store.on_change(seen)
    gone = Recorder()
    store.on_change(gone, weak=True)
    kept = []
    sub = store.on_change(lambda table: kept.append(table))  # strong by default
    assert changes.listener_count(store.changes_key) == 3
    del gone
    gc.collect()
    store.model_configs.create(minimal())
    assert changes.listener_count(store.changes_key) == 2
    assert seen.tables == kept == ["model_configs"]
    sub.cancel()
    sub.cancel()  # idempotent
    assert not sub.active
    store.model_configs.create(minimal("n"))
    assert kept == ["model_configs"]


def test_bound_methods_are_held_weakly(store):
    calls = []

    class Widgetish:
        def on_store(self, table):
            calls.append(table)

    obj = Widgetish()
    store.on_change(obj.on_store, weak=True)  # the bound method itself is gone at once; obj is not
    store.model_configs.create(minimal())
    assert calls == ["model_configs"]
    del obj
    gc.collect()
    store.model_configs.create(minimal("n"))
    assert calls == ["model_configs"]
    assert changes.listener_count(store.changes_key) == 0


WRITER = textwrap.dedent(
    """
    import sys
    from towerwidgets import ModelConfig, Store
    with Store(sys.argv[1], recover=False) as store:
        store.model_configs.create(ModelConfig.from_preset("minimal", name=sys.argv[2]))
    """
)


def write_from_another_process(path, name):
    subprocess.run([sys.executable, "-c", WRITER, str(path), name], check=True, timeout=120)


def test_data_version_and_watcher_see_another_process(tmp_path):
    path = tmp_path / "shared.db"
    store = Store(path)
    calls = []

    class Owner:
        def changed(self, tables):
            calls.append(tables)

    owner = Owner()
    watcher = StoreWatcher(store, owner.changed, ["model_configs", "quick_tests"])
    version = store.data_version()
    assert isinstance(version, int)
    assert watcher.check() == set()
    write_from_another_process(path, "from the CLI")
    assert store.data_version() != version
    assert watcher.check() == {"model_configs"}
    assert calls == [{"model_configs"}]
    assert watcher.check() == set()  # seen once
    assert [c.name for c in store.model_configs.list()] == ["from the CLI"]
    watcher.close()
    store.close()
    assert store.data_version() is None


def test_fingerprint_ignores_progress_but_not_status(store, quick_test):
    test = quick_test(store)
    before = store.fingerprint()
    store.quick_tests.patch(test.id, progress_percent=40)
    assert store.fingerprint() == before
    store.quick_tests.patch(test.id, status="running")
    after = store.fingerprint()
    assert after["quick_tests"] != before["quick_tests"]
    assert after["model_configs"] == before["model_configs"]


def test_memory_stores_are_private(tmp_path):
    a, b = Store("sqlite://"), Store("sqlite:///:memory:")
    assert a.changes_key != b.changes_key
    assert a.data_version() is None
    seen = Recorder()
    a.on_change(seen)
    a.model_configs.create(minimal())
    assert seen.tables == ["model_configs"]
    a.close()
    b.close()
