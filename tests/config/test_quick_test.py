"""QuickTest: effective values, status transitions, metrics frame, round trips."""

from __future__ import annotations

import pytest

from towerwidgets import ModelConfig, QuickTest
from towerwidgets.errors import InvalidTransitionError


def make(**fields) -> QuickTest:
    config = ModelConfig.from_preset("standard", name="Standard Retrieval v1", epochs=5)
    return QuickTest(model_config_snapshot=config.to_dict(), **fields)


def test_effective_values_prefer_overrides():
    test = make()
    assert (
        test.get_effective_epochs(),
        test.get_effective_batch_size(),
        test.get_effective_learning_rate(),
    ) == (5, 4096, 0.1)
    test = make(epochs_override=2, batch_size_override=512, learning_rate_override=0.05)
    assert (
        test.get_effective_epochs(),
        test.get_effective_batch_size(),
        test.get_effective_learning_rate(),
    ) == (2, 512, 0.05)
    assert test.model_config_obj.name == "Standard Retrieval v1"


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled"])
def test_pending_running_final(final):
    test = make()
    test.status = "running"
    test.status = final
    assert test.is_finished
    for status in ("pending", "running", "completed"):
        if status != final:
            with pytest.raises(InvalidTransitionError, match="nothing \\(final\\)"):
                test.status = status


def test_pending_cannot_jump_to_completed():
    with pytest.raises(InvalidTransitionError, match="cannot go from 'pending' to 'completed'"):
        make().status = "completed"


def test_metrics_is_a_frame_with_one_row_per_epoch():
    test = make(
        epoch_metrics=[
            {"epoch": 1, "loss": 2.0, "recall_at_100": 0.1},
            {"epoch": 2, "loss": 1.5, "recall_at_100": 0.2},
        ]
    )
    frame = test.metrics
    assert list(frame["epoch"]) == [1, 2]
    assert list(frame.columns[:3]) == ["epoch", "loss", "recall_at_100"]
    assert make().metrics.empty


def test_round_trip_keeps_everything():
    test = make(
        status="failed", error_stage="train", error_message="NaN loss at epoch 2", warnings=["w"]
    )
    assert QuickTest.from_json(test.to_json()) == test
