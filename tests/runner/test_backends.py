"""Backends: the Vertex AI Pipelines backend builds its pipeline from the same modules and
reports through the same record (only the cloud call is mocked); listeners see events."""

from __future__ import annotations

from runner_helpers import generated_code, model_config

from towerwidgets.runner import VertexBackend, start_quick_test


class FakePipelineJob:
    resource_name = "projects/p/locations/us-central1/pipelineJobs/quicktest-1"

    def __init__(self):
        self.state = "PipelineState.PIPELINE_STATE_SUCCEEDED"
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class MockedVertex(VertexBackend):
    def __init__(self, **kw):
        super().__init__(project="my-project", **kw)
        self.specs = []

    def _submit_pipeline(self, spec):
        self.specs.append(spec)
        return FakePipelineJob()


def test_vertex_backend_runs_the_same_modules_and_fills_the_record(
    store, tmp_path, tiny_data, feature_config
):
    backend = MockedVertex(machine="n1-standard-8")
    mc = model_config(epochs=3)
    events = []
    handle = start_quick_test(
        feature_config,
        mc,
        tiny_data,
        store=store,
        home=tmp_path,
        backend=backend,
        code=generated_code(feature_config, mc),
        epochs=2,
        on_event=events.append,
    )
    record = handle.wait(30)
    assert record.status == "completed", record.error_message
    assert record.backend == "vertex"
    assert record.vertex_pipeline_id.endswith("quicktest-1")
    assert record.cost_usd and record.cost_usd > 0  # from the price table, before it ran

    (spec,) = backend.specs
    names = [c["name"] for c in spec["components"]]
    assert names == ["ExampleGen", "Transform", "Trainer", "Pusher"]
    transform = next(c for c in spec["components"] if c["name"] == "Transform")
    trainer = next(c for c in spec["components"] if c["name"] == "Trainer")
    assert open(transform["module_file"]).read() == record.transform_code
    assert open(trainer["module_file"]).read() == record.trainer_code
    assert trainer["custom_config"] == {"epochs": 2, "seed": 42}
    assert trainer["machine_type"] == "n1-standard-8"
    assert [e.stage for e in events if e.kind == "stage"][:2] == ["validate", "prepare data"]
    assert events[-1].is_final and events[-1].status == "completed"
    assert store.quick_tests.get(record.id).status == "completed"
