"""ModelWizard and TowerBuilder driven like the front end drives them, and by their Python face."""

from __future__ import annotations

import pytest
import traitlets
from widget_helpers import front_end

from towerwidgets.config import ModelConfig
from towerwidgets.widgets import ModelWizard, TowerBuilder


def edit(widget, **fields):
    """A front-end edit of config fields (what typing/clicking in steps 1 and 3 sends)."""
    widget.set_state({"config_data": {**widget.config_data, **fields}})


def test_new_wizard_starts_on_step_one_with_the_standard_preset(store):
    w = ModelWizard(store=store)
    assert w.step == 1
    assert w.mode == "create"
    assert w.preset == "standard"
    assert w.config.get_buyer_tower_summary() == "128→64→32"
    assert w.errors == ["Model name is required"]
    assert repr(w) == "ModelWizard(step=1, config='', mode='create')"


def test_continue_is_refused_with_inline_errors_until_the_step_is_valid(store, replies):
    w = replies.attach(ModelWizard(store=store))
    front_end(w, "continue")
    assert w.step == 1
    assert w.step_errors == ["Model name is required"]
    assert replies.last() == {
        "kind": "reply",
        "id": "t-continue",
        "ok": False,
        "error": "Model name is required",
    }
    edit(w, name="Standard Retrieval v1")
    assert w.step_errors == []  # inline errors follow the edit that fixes them
    front_end(w, "continue")
    assert w.step == 2
    assert replies.last()["ok"] is True


def test_continue_and_save_carry_the_text_typed_just_before_them(store, replies):
    """A busy kernel: the front end still holds back the state update with the typed name
    when Continue's command arrives; the command's own copy of the text is used."""
    w = replies.attach(ModelWizard(store=store))
    front_end(w, "continue", fields={"name": "Typed just now", "step": 3, "epochs": "x"})
    assert w.step == 2 and replies.last()["ok"] is True
    assert w.config.name == "Typed just now"  # only the text fields are taken from it
    front_end(w, "continue", fields={})
    assert w.step == 3
    front_end(w, "save", fields={"description": "typed before Save"})
    assert replies.last()["ok"] is True
    saved = store.model_configs.list()
    assert [(c.name, c.description) for c in saved] == [("Typed just now", "typed before Save")]


def test_front_end_cannot_jump_past_an_invalid_step(store):
    w = ModelWizard(store=store)
    w.set_state({"step": 3})
    assert w.step == 1
    assert w.step_errors == ["Model name is required"]


def test_build_standard_retrieval_v1_through_the_front_end(store):
    w = ModelWizard(store=store)
    edit(w, name="Standard Retrieval v1", description="Default 3-layer retrieval model")
    front_end(w, "continue")
    front_end(w, "apply_preset", name="standard")
    front_end(w, "continue")
    assert w.step == 3
    edit(w, optimizer="adagrad", learning_rate=0.1, batch_size=4096, epochs=5)
    front_end(w, "save")
    assert w.closed and w.saved["name"] == "Standard Retrieval v1"
    [stored] = store.model_configs.list()
    assert stored.name == "Standard Retrieval v1"
    assert stored.model_type == "retrieval"
    assert stored.get_buyer_tower_summary() == stored.get_product_tower_summary() == "128→64→32"
    assert (stored.optimizer, stored.learning_rate, stored.batch_size) == ("adagrad", 0.1, 4096)
    assert stored.output_embedding_dim == 32


def test_build_deep_asymmetric_v2_through_the_python_face(store):
    w = ModelWizard(store=store)
    w.set(name="Deep Asymmetric v2")
    assert w.next_step()
    w.apply_preset("asymmetric")
    assert w.preset == "asymmetric"
    assert w.next_step()
    w.set(optimizer="adam", learning_rate=0.01, batch_size=8192)
    stored = w.save()
    assert stored.id is not None
    again = store.model_configs.get(stored.id)
    assert again.get_buyer_tower_summary() == "256→128→64"
    assert again.get_product_tower_summary() == "128→64"
    assert again.output_embedding_dim == 64
    assert (again.optimizer, again.learning_rate, again.batch_size) == ("adam", 0.01, 8192)


def test_save_without_a_name_raises_value_error_listing_problems(store):
    w = ModelWizard(store=store)
    with pytest.raises(ValueError, match="Model name is required"):
        w.save()
    assert store.model_configs.list() == []


def test_editing_a_stored_config_updates_it(store):
    cfg = store.model_configs.create(ModelConfig.from_preset("minimal", name="Mini"))
    w = ModelWizard(store=store, config=cfg)
    assert w.mode == "edit"
    w.set(epochs=3)
    w.save()
    [stored] = store.model_configs.list()
    assert stored.id == cfg.id and stored.epochs == 3


def test_editing_a_config_deleted_elsewhere_keeps_the_edits_as_a_new_draft(store):
    cfg = store.model_configs.create(ModelConfig.from_preset("minimal", name="Mini"))
    w = ModelWizard(store=store, config=cfg)
    w.set(epochs=3)
    store.model_configs.delete(cfg.id)  # another cell, the CLI, another kernel
    front_end(w, "save")  # the front end's Save: no traceback, a message in the step
    assert w.step_errors == [
        "“Mini” was deleted elsewhere while you edited it; "
        "Save again to store your edits as a new configuration."
    ]
    assert not w.closed and w.mode == "create"
    assert w.config.id is None and w.config.epochs == 3  # nothing lost
    assert store.model_configs.list() == []
    stored = w.save()
    assert stored.id is not None and stored.epochs == 3 and stored.created_at > cfg.created_at
    assert [c.name for c in store.model_configs.list()] == ["Mini"]


def test_config_without_id_starts_a_new_draft(store):
    cfg = ModelConfig.from_preset("deep", name="Deep draft")
    w = ModelWizard(store=store, config=cfg)
    assert w.mode == "create"
    w.save()
    w.config.name = "changed in the widget only"
    assert cfg.name == "Deep draft"  # the caller's object is not the draft


def test_layer_commands_from_the_front_end(store):
    w = ModelWizard(store=store)
    front_end(w, "add_layer", tower="buyer", type="dropout")
    assert [layer.type for layer in w.config.buyer_tower_layers] == [
        "dense",
        "dense",
        "dropout",
        "dense",
    ]
    assert w.preset == "custom"
    front_end(w, "move_layer", tower="buyer", src=2, dst=0)
    assert w.config.buyer_tower_layers[0].type == "dropout"
    front_end(w, "update_layer", tower="buyer", index=0, params={"rate": 0.3})
    assert w.config.buyer_tower_layers[0].rate == 0.3
    front_end(w, "remove_layer", tower="buyer", index=0)
    front_end(
        w,
        "update_layer",
        tower="buyer",
        index=0,
        params={"units": 256, "activation": "gelu", "l2_reg": 0.01},
    )
    assert w.config.buyer_tower_layers[0].label() == "Dense(256)"
    assert w.config.buyer_tower_layers[0].detail() == "GELU • L2: 0.01"
    assert w.estimates["buyer"]["summary"] == "256→64→32"
    front_end(w, "copy_from_buyer")
    assert w.config.towers_are_identical()


def test_output_dim_chips_keep_each_towers_output_layer_in_step(store):
    w = TowerBuilder()
    w.apply_preset("asymmetric")
    w.set_output_dim(128)
    assert w.config.output_embedding_dim == 128
    assert w.config.get_buyer_tower_summary() == "256→128→128"
    assert w.config.get_product_tower_summary() == "128→128"
    assert w.errors == ["Model name is required"]
    # editing the output layer's units in the modal moves the dimension with it
    w.update_layer("product", 1, units=16)
    assert w.config.output_embedding_dim == 16
    assert w.config.get_buyer_tower_summary() == "256→128→16"


def test_invalid_front_end_values_are_refused_reported_and_resynced():
    w = TowerBuilder()
    sent = []
    w.send_state = lambda key=None: sent.append(key)
    before = w.config_data
    w.set_state(
        {"config_data": {**before, "buyer_tower_layers": [{"type": "dense", "units": 5000}]}}
    )
    assert w.config_data == before
    assert "Buyer tower, layer 1: units must be at most 2048 (got 5000)" in w.notice
    assert sent[-1] == "config_data"  # the front end gets the kept value back


def test_bad_layer_commands_are_answered_not_raised(replies):
    w = replies.attach(TowerBuilder())
    front_end(w, "remove_layer", tower="buyer", index=9)
    assert replies.last()["ok"] is False
    assert "out of range" in replies.last()["error"]
    front_end(w, "add_layer", tower="sideways", type="dense")
    assert "Unknown tower" in replies.last()["error"]
    front_end(w, "no_such_command")
    assert replies.last()["ok"] is False


def test_ranking_brings_a_rating_head_whose_final_dense_is_fixed():
    w = TowerBuilder()
    w.set(model_type="ranking")
    assert w.config.get_rating_head_summary() == "256→64→1"
    index = w.add_layer("rating_head", "dropout")
    assert index == 2
    assert [layer.type for layer in w.config.rating_head_layers][-1] == "dense"
    with pytest.raises(ValueError, match="fixed"):
        w.remove_layer("rating_head", 3)
    with pytest.raises(ValueError, match="fixed"):
        w.move_layer("rating_head", 3, 0)
    assert w.estimates["rating_head"]["input_dim"] == 64


def test_multitask_defaults_to_balanced_loss_weights():
    w = TowerBuilder()
    w.set(model_type="multitask")
    assert (w.config.retrieval_weight, w.config.ranking_weight) == (0.5, 0.5)


def test_share_weights_needs_identical_towers():
    w = TowerBuilder(config=ModelConfig.from_preset("asymmetric", name="A"))
    w.set(share_tower_weights=True)
    assert "Weight sharing requires identical tower architectures" in w.errors
    w.copy_from_buyer()
    assert "Weight sharing requires identical tower architectures" not in w.errors


def test_feature_config_gives_input_dims_and_estimates(feature_config):
    w = TowerBuilder(feature_config=feature_config)
    assert w.input_dims["buyer"] == feature_config.buyer_tensor_dim
    assert w.input_dims["feature_config"] == "Rich Features v2"
    assert w.estimates["total_params"] == w.config.estimate_params(
        feature_config.buyer_tensor_dim, feature_config.product_tensor_dim
    )
    assert w.estimates["quick_test_time"].startswith("~")


def test_unknown_constructor_kwargs_raise_type_error(store):
    with pytest.raises(TypeError, match="stepp"):
        ModelWizard(store=store, stepp=2)
    with pytest.raises(TypeError):
        TowerBuilder(confg={})


def test_preset_cards_describe_all_five_presets():
    w = TowerBuilder()
    cards = {card["key"]: card for card in w.presets}
    assert list(cards) == ["minimal", "standard", "deep", "asymmetric", "regularized"]
    assert cards["asymmetric"]["symmetric"] is False
    assert cards["regularized"]["extras"] == ["+Dropout", "+L2 reg"]
    # the one duration estimate (the wizard's, the panel's, the CLI's), not a fixed "~15 min"
    from towerwidgets.runner.estimates import estimate_quick_test, format_duration

    deep = estimate_quick_test(None, ModelConfig.from_preset("deep")).seconds
    assert cards["deep"]["estimated_time"] == format_duration(deep, approx=True)
    w.apply_preset("deep")  # the card and the summary of the same config agree
    assert w.estimates["quick_test_time"] == cards["deep"]["estimated_time"]


def test_cancel_closes_and_calls_back(store):
    w = ModelWizard(store=store)
    called = []
    w.on_cancel(lambda: called.append(True))
    front_end(w, "cancel")
    assert w.closed and called == [True]


def test_step_trait_rejects_out_of_range_values():
    w = ModelWizard()
    with pytest.raises(traitlets.TraitError):
        w.step = 4


def test_first_dense_of_an_empty_tower_is_its_linear_output_layer():
    w = TowerBuilder()
    for _ in range(3):
        w.remove_layer("product", 0)
    assert "Product tower must have at least one layer" in w.errors
    w.add_layer("product", "dense")
    assert w.config.product_tower_layers[0].to_dict() == {
        "type": "dense",
        "units": 32,
        "activation": None,
        "l2_reg": 0.0,
    }
    w.add_layer("product", "batch_norm")
    assert [layer.type for layer in w.config.product_tower_layers] == ["batch_norm", "dense"]


def test_a_good_edit_clears_the_notice_of_a_refused_one():
    w = TowerBuilder()
    with pytest.raises(ValueError):
        w.set(output_embedding_dim="wide")
    assert w.notice.startswith("Not applied")
    w.set(name="ok")
    assert w.notice == ""


def test_a_valid_no_op_after_a_refused_edit_does_not_raise_the_old_error():
    w = TowerBuilder()
    with pytest.raises(ValueError):
        w.set(output_embedding_dim="wide")
    w.set(output_embedding_dim=w.config.output_embedding_dim)  # unchanged: nothing to refuse
    assert w.notice == ""
