"""Widgets on one database see each other's writes, code's writes and other processes'."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest
from widget_helpers import front_end

from towerwidgets import ModelConfig, Store
from towerwidgets.store import changes
from towerwidgets.widgets import ModelingPage, ModelStructure, ModelWizard, QuickTestPanel


def standard(store, name="Standard Retrieval v1", **fields):
    return store.model_configs.create(ModelConfig.from_preset("standard", name=name, **fields))


def names(items):
    return [item["name"] for item in items]


@pytest.fixture
def second_store(store):
    other = Store(store.url, recover=False)  # another Store object, the same file
    yield other
    other.close()


def test_two_widgets_on_one_store_see_a_write_from_code(store, feature_config, sample_df):
    panel = QuickTestPanel(store, data=sample_df)
    ms = ModelStructure(store)
    assert panel.model_configs == [] and ms.configs == []
    cfg = standard(store)
    assert names(ms.configs) == ["Standard Retrieval v1"]
    assert names(panel.model_configs) == ["Standard Retrieval v1"]
    assert panel.model_config_id == cfg.id  # the first config is taken when none was
    assert panel.can_start, panel.checks


def test_a_standalone_wizard_save_reaches_panel_and_structure_on_another_store_object(
    store, second_store, feature_config, sample_df
):
    first = standard(store, name="First")
    panel = QuickTestPanel(store, data=sample_df)
    ms = ModelStructure(store)
    front_end(ms, "view", config_id=first.id)
    wizard = ModelWizard(store=second_store)
    wizard.set(name="Saved In Another Cell")
    wizard.apply_preset("minimal")
    front_end(wizard, "save")
    assert wizard.saved["name"] == "Saved In Another Cell"
    assert names(panel.model_configs) == ["Saved In Another Cell", "First"]
    assert names(ms.configs) == ["Saved In Another Cell", "First"]
    assert panel.model_config_id == first.id  # the selection is kept
    assert ms.viewing["id"] == first.id  # and so is the open view


def test_an_edit_elsewhere_updates_the_open_view_and_the_summary(
    store, second_store, feature_config, sample_df
):
    cfg = standard(store)
    panel = QuickTestPanel(store, data=sample_df)
    ms = ModelStructure(store)
    ms.view(cfg.id)
    edited = second_store.model_configs.get(cfg.id)
    edited.batch_size = 512
    second_store.model_configs.update(edited)
    assert ms.viewing["batch_size"] == 512
    assert panel.model_summary["batch_size"] == 512
    assert panel.defaults["batch_size"] == 512


def test_a_delete_elsewhere_clears_selection_and_view_with_a_notice(
    store, second_store, feature_config, sample_df
):
    keep = standard(store, name="Keep")
    doomed = standard(store, name="Doomed")
    panel = QuickTestPanel(store, data=sample_df)
    panel.select(model_config_id=doomed.id)
    ms = ModelStructure(store)
    front_end(ms, "view", config_id=doomed.id)
    front_end(ms, "delete", config_id=doomed.id)  # a confirmation left open
    second_store.model_configs.delete(doomed.id)
    assert names(panel.model_configs) == ["Keep"]
    assert panel.model_config_id is None
    assert "'Doomed' was deleted elsewhere" in panel.message
    assert not panel.can_start
    assert ms.viewing == {} and ms.confirm_delete == {}
    assert "'Doomed'" in ms.message and "elsewhere" in ms.message
    assert names(ms.configs) == ["Keep"]
    # the user picks another one; a later write does not undo that
    panel.set_state({"model_config_id": keep.id})
    standard(second_store, name="Later")
    assert panel.model_config_id == keep.id


def test_own_delete_says_deleted_not_elsewhere(store):
    cfg = standard(store)
    ms = ModelStructure(store)
    front_end(ms, "view", config_id=cfg.id)
    front_end(ms, "delete", config_id=cfg.id)
    front_end(ms, "confirm_delete")
    assert ms.message == "Deleted 'Standard Retrieval v1'"
    assert ms.viewing == {} and ms.configs == []


def test_a_feature_config_deleted_elsewhere_leaves_the_panel(
    store, second_store, feature_config, sample_df
):
    standard(store)
    panel = QuickTestPanel(store, data=sample_df)
    ms = ModelStructure(store, feature_config=feature_config)
    assert ms.feature_config_id == feature_config.id
    second_store.feature_configs.delete(feature_config.id)
    assert panel.feature_configs == [] and panel.feature_config_id is None
    assert "Feature config 'Rich Features v2' was deleted elsewhere" in panel.message
    assert ms.feature_config_id is None and ms.feature_configs == []


def test_recent_quick_tests_follow_writes_from_code_and_other_threads(
    store, second_store, feature_config, sample_df, add_quick_test
):
    mc = standard(store)
    panel = QuickTestPanel(store, data=sample_df)
    assert panel.recent == []
    test = add_quick_test(second_store, feature_config, mc)
    assert [r["id"] for r in panel.recent] == [test.id]
    assert panel.recent[0]["status"] == "pending"

    # quick tests finish on the runner's thread: the notification arrives there
    def finish():
        second_store.quick_tests.patch(test.id, status="running")
        second_store.quick_tests.patch(test.id, progress_percent=60)
        second_store.quick_tests.patch(test.id, status="completed")

    worker = threading.Thread(target=finish)
    worker.start()
    worker.join(30)
    assert panel.recent[0]["status"] == "completed"
    second_store.quick_tests.delete(test.id)
    assert panel.recent == []


def test_progress_patches_do_not_refresh_the_panel(
    store, feature_config, sample_df, add_quick_test
):
    mc = standard(store)
    test = add_quick_test(store, feature_config, mc)
    store.quick_tests.patch(test.id, status="running")
    panel = QuickTestPanel(store, data=sample_df)
    changes_seen = []
    panel.observe(changes_seen.append, names=["recent", "model_configs"])
    for percent in (10, 20, 30):
        store.quick_tests.patch(test.id, progress_percent=percent)
        store.quick_tests.append_epoch(test.id, {"epoch": percent // 10, "loss": 0.1})
    assert changes_seen == []


def test_one_write_refreshes_each_list_once(store, feature_config, sample_df):
    ms = ModelStructure(store)
    panel = QuickTestPanel(store, data=sample_df)
    seen = []
    ms.observe(lambda c: seen.append(("ms", c["name"])), names=["configs", "feature_configs"])
    panel.observe(
        lambda c: seen.append(("panel", c["name"])),
        names=["model_configs", "feature_configs", "recent"],
    )
    standard(store)
    assert sorted(seen) == [("ms", "configs"), ("panel", "model_configs")]


def test_structure_own_clone_and_wizard_stay_consistent(store, feature_config, sample_df):
    cfg = standard(store)
    page = ModelingPage(store, data=sample_df)
    front_end(page.structure, "clone", config_id=cfg.id)
    assert page.structure.message == "Cloned as 'Standard Retrieval v1 (copy)'"
    assert len(page.structure.configs) == 2
    assert names(page.quick_test.model_configs) == names(page.structure.configs)
    wizard = page.structure.new()
    wizard.set(name="Minimal One")
    wizard.apply_preset("minimal")
    wizard.save()
    assert "Minimal One" in names(page.quick_test.model_configs)
    assert page.structure.wizard is None and page.structure.message == "Saved “Minimal One”"


def test_page_features_follow_the_store(store, second_store, feature_config):
    page = ModelingPage(store)
    assert names(page.features) == ["Rich Features v2"]
    copy = feature_config.model_copy(deep=True)
    copy.id, copy.name = None, "Second Features"
    second_store.feature_configs.create(copy)
    assert sorted(names(page.features)) == ["Rich Features v2", "Second Features"]
    assert sorted(names(page.quick_test.feature_configs)) == sorted(names(page.features))
    assert sorted(names(page.structure.feature_configs)) == sorted(names(page.features))


class Counting(ModelStructure):
    # A file-backed _esm/_css makes anywidget hold every instance (for hot reload);
    # strings do not, so only the store's listeners could keep this one alive.
    _esm = "export default {};"
    _css = ""
    calls: list[set[str]]

    def _store_changed(self, tables):
        type(self).calls.append(tables)
        super()._store_changed(tables)


def test_a_closed_widget_is_not_called(store):
    Counting.calls = []
    ms = Counting(store)
    before = changes.listener_count(store.changes_key)
    standard(store, name="a")
    assert Counting.calls == [{"model_configs"}]
    ms.close()
    assert changes.listener_count(store.changes_key) == before - 1
    standard(store, name="b")
    assert Counting.calls == [{"model_configs"}]


def test_a_collected_widget_is_not_called_and_does_not_leak(store):
    import comm
    from ipywidgets.widgets import widget as ipywidgets_widget

    Counting.calls = []
    ms = Counting(store)
    standard(store, name="a")
    assert Counting.calls == [{"model_configs"}]
    before = changes.listener_count(store.changes_key)
    # What ipywidgets and the comm manager hold until close(); let go of it by hand, so
    # only the store's listeners could keep the widget alive.
    ipywidgets_widget._instances.pop(ms.model_id, None)
    comm.get_comm_manager().unregister_comm(ms.comm)
    ms.comm = None
    ref = weakref.ref(ms)
    del ms
    gc.collect()
    assert ref() is None, "the store's listeners kept the widget alive"
    standard(store, name="b")
    assert Counting.calls == [{"model_configs"}]
    assert changes.listener_count(store.changes_key) == before - 1


WRITER = textwrap.dedent(
    """
    import sys
    from towerwidgets import ModelConfig, Store
    with Store(sys.argv[1], recover=False) as store:
        if sys.argv[2] == "delete":
            store.model_configs.delete(int(sys.argv[3]), force=True)
        else:
            store.model_configs.create(ModelConfig.from_preset("minimal", name=sys.argv[3]))
    """
)


def other_process(store, *args):
    path = store.url.removeprefix("sqlite:///")
    subprocess.run([sys.executable, "-c", WRITER, path, *args], check=True, timeout=120)


def test_a_write_from_another_process_shows_after_refresh(store, feature_config, sample_df):
    panel = QuickTestPanel(store, data=sample_df)
    ms = ModelStructure(store)
    other_process(store, "create", "From The Terminal")
    assert panel.model_configs == [] and ms.configs == []  # no polling
    front_end(panel, "refresh")
    assert names(panel.model_configs) == ["From The Terminal"]
    front_end(ms, "refresh")
    assert names(ms.configs) == ["From The Terminal"]


def test_another_process_write_is_picked_up_before_a_command(store, feature_config, sample_df):
    cfg = standard(store, name="Viewed")
    ms = ModelStructure(store)
    front_end(ms, "view", config_id=cfg.id)
    panel = QuickTestPanel(store, data=sample_df)
    other_process(store, "delete", str(cfg.id))
    front_end(ms, "close_view")  # any command looks for other processes' writes first
    assert ms.configs == []
    front_end(panel, "view_results", test_id=12345)  # fails, but the lists are fresh
    assert panel.model_configs == [] and panel.model_config_id is None


def test_page_refresh_picks_up_another_process(store, feature_config, sample_df):
    page = ModelingPage(store, data=sample_df)
    other_process(store, "create", "From The Terminal")
    front_end(page, "refresh")
    assert names(page.structure.configs) == ["From The Terminal"]
    assert names(page.quick_test.model_configs) == ["From The Terminal"]
    page.close()
    assert page.structure.comm is None and page.quick_test.comm is None
