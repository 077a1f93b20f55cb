"""Quick tests on Vertex AI Pipelines, offline: the real google-cloud-aiplatform SDK talks
REST to a scripted fake on 127.0.0.1, and the real google-cloud-storage client talks to
gcp-storage-emulator. Polling sleeps are injected (recorded, a few ms each)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fakes.vertex_fake import Step, failing_transform_script, success_script, tasks_up_to
from runner_helpers import generated_code, model_config
from vertex_helpers import (
    BUCKET,
    NETWORK,
    PROJECT,
    REGION,
    ROOT,
    SERVICE_ACCOUNT,
    VertexFake,
    init_sdk,
    make_backend,
    reset_sdk,
    start_storage_emulator,
)

from towerwidgets.runner import start_quick_test
from towerwidgets.runner.estimates import MACHINE_PRICES, estimate_quick_test
from towerwidgets.runner.vertex import (
    PollPolicy,
    VertexSettings,
    VertexSetupError,
    reattach_quick_test,
    running_vertex_tests,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def gcs():
    server, host = start_storage_emulator()
    yield host
    server.stop()


@pytest.fixture
def storage_client(gcs, monkeypatch):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs)
    return storage.Client(project=PROJECT, credentials=AnonymousCredentials())


@pytest.fixture
def vertex(storage_client):
    fake = VertexFake(storage_client).start()
    init_sdk(fake.endpoint)
    yield fake
    fake.stop()
    reset_sdk()


def _start(backend, store, feature_config, tiny_data, tmp_path, events, mc=None, **kw):
    mc = mc or model_config(epochs=3)
    if mc.id is None:
        store.model_configs.create(mc)
    if feature_config.id is None:
        store.feature_configs.create(feature_config)
    return start_quick_test(
        feature_config,
        mc,
        tiny_data,
        store=store,
        home=tmp_path,
        backend=backend,
        code=generated_code(feature_config, mc),
        on_event=events.append,
        **kw,
    )


def _blobs(client, prefix):
    return {b.name: b for b in client.list_blobs(BUCKET, prefix=prefix)}


def test_a_vertex_quick_test_streams_stages_and_epochs_and_completes(
    vertex, storage_client, store, feature_config, tiny_data, tmp_path
):
    backend = make_backend(machine="n1-standard-8+t4")
    events = []
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, events, epochs=3)
    record = handle.wait(60)
    assert record.status == "completed", record.error_message

    # the record: job name, console link, three epochs from metrics.jsonl, the estimate
    assert record.backend == "vertex"
    assert record.vertex_pipeline_id.startswith("projects/123456789/locations/us-central1/")
    assert record.vertex_console_url == (
        "https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/runs/"
        f"{record.vertex_pipeline_id.rsplit('/', 1)[-1]}?project={PROJECT}"
    )
    assert [row["epoch"] for row in record.epoch_metrics] == [1, 2, 3]
    assert record.recall_at_10 == pytest.approx(0.15) and record.loss == pytest.approx(0.3333)
    stored = store.quick_tests.get(record.id)
    assert stored.status == "completed" and len(stored.epoch_metrics) == 3
    assert stored.vertex_console_url == record.vertex_console_url
    expected = estimate_quick_test(
        feature_config,
        record.model_config_obj,
        n_rows=len(tiny_data),
        epochs=3,
        machine="n1-standard-8+t4",
        n_candidates=record.split["candidates"],
    )
    assert (
        record.cost_usd == expected.cost_usd > MACHINE_PRICES["n1-standard-8"]["usd_per_hour"] / 60
    )
    assert record.estimated_duration_seconds == round(expected.seconds)
    assert record.duration_seconds is not None

    # the same events as a local run, in order: stages, then epoch rows while training
    stages = [e.stage for e in events if e.kind == "stage"]
    assert stages == ["validate", "prepare data", "transform", "train", "export"]
    kinds = [e.kind for e in events]
    assert kinds.index("epoch") > max(
        i for i, e in enumerate(events) if e.stage == "train" and e.kind == "stage"
    )
    tasks = [e.metrics["vertex_task"] for e in events if "vertex_task" in e.metrics]
    assert tasks == [
        "CsvExampleGen",
        "StatisticsGen",
        "SchemaGen",
        "Transform",
        "Trainer",
        "Pusher",
    ]
    assert events[-1].is_final and events[-1].status == "completed"

    # what was sent: the compiled spec, labels, runtime config, service account, network
    (sent,) = vertex.created
    assert sent["_project"] == PROJECT
    assert sent["labels"] == {
        "towerwidgets": "quick-test",
        "quick-test-id": str(record.id),
        "feature-config-id": str(feature_config.id),
        "model-config-id": str(record.model_config_id),
    }
    assert sent["serviceAccount"] == SERVICE_ACCOUNT and sent["network"] == NETWORK
    assert sent["runtimeConfig"]["gcsOutputDirectory"] == ROOT
    spec = sent["pipelineSpec"]
    assert spec["sdkVersion"] == "tfx-1.16.0"
    assert set(spec["root"]["dag"]["tasks"]) == {
        "CsvExampleGen",
        "StatisticsGen",
        "SchemaGen",
        "Transform",
        "Trainer",
        "Pusher",
    }
    assert spec["pipelineInfo"]["name"] == sent["_job_id"]
    assert sent["_job_id"].startswith(f"towerwidgets-qt-{record.id}-")

    # what was compiled: the same configs, the uploaded data, the priced machine
    (call,) = backend._compile.calls
    assert call["feature_config"].to_dict() == feature_config.to_dict()
    assert call["model_config"].to_dict() == record.model_config_snapshot
    assert call["data"].endswith("source.parquet")  # the rows, split there like here
    assert (call["seed"], call["split"]) == (42, "random")
    assert call["pipeline_root"] == ROOT and call["region"] == REGION
    assert call["project"] == PROJECT
    assert call["epochs"] == 3 and call["enable_cache"] is True
    assert (call["trainer_machine"], call["accelerator_type"], call["accelerator_count"]) == (
        "n1-standard-8",
        "NVIDIA_TESLA_T4",
        1,
    )

    # what the compiler listed went to GCS before the job was created (module wheel, data)
    uploaded = _blobs(storage_client, "root/")
    assert "root/_wheels/tfx_user_code_Trainer-0.0+fake-py3-none-any.whl" in uploaded
    train = pd.read_csv(io.StringIO(uploaded["root/data/fake/train/data.csv"].download_as_text()))
    assert len(train) == len(tiny_data) * 4 // 5

    # polling: starts at 5 s, backs off only while nothing changes, never beyond 30 s
    delays = backend.sleep
    assert delays[0] == 5.0 and max(delays) <= 30.0


def test_without_a_source_file_the_prepared_split_is_uploaded_as_csv(
    vertex, storage_client, store, feature_config, tiny_data, tmp_path
):
    """Data Parquet cannot hold (a mixed-type column the configs do not use) still runs:
    the prepared train/eval rows go to GCS as CSV, row for row."""
    data = tiny_data.assign(notes=[1 if i % 2 else "x" for i in range(len(tiny_data))])
    backend = make_backend()
    handle = _start(backend, store, feature_config, data, tmp_path, [])
    record = handle.wait(60)
    assert record.status == "completed", record.error_message
    (call,) = backend._compile.calls
    (sent,) = vertex.created
    assert call["data"] == f"{ROOT}/towerwidgets/{sent['_job_id']}/data"
    prefix = call["data"][len(f"gs://{BUCKET}/") :]
    blobs = _blobs(storage_client, prefix)
    train = pd.read_csv(io.StringIO(blobs[f"{prefix}/train.csv"].download_as_text()))
    evaluation = pd.read_csv(io.StringIO(blobs[f"{prefix}/eval.csv"].download_as_text()))
    assert (len(train), len(evaluation)) == (record.split["train_rows"], record.split["eval_rows"])


def test_a_failing_transform_fails_the_record_with_the_task_message_and_console(
    vertex, store, feature_config, tiny_data, tmp_path
):
    vertex.scripts.append(failing_transform_script("ValueError: column 'price' has no values"))
    events = []
    handle = _start(make_backend(), store, feature_config, tiny_data, tmp_path, events)
    record = handle.wait(60)
    assert record.status == "failed"
    assert record.error_stage == "Transform"
    assert "ValueError: column 'price' has no values" in record.error_message
    assert record.vertex_console_url and record.vertex_console_url in record.error_message
    assert store.quick_tests.get(record.id).status == "failed"
    assert not record.epoch_metrics
    assert events[-1].status == "failed"


def test_cancel_mid_run_ends_cancelled_once_vertex_says_so(
    vertex, store, feature_config, tiny_data, tmp_path
):
    script = success_script(epochs=3)
    trainer = next(i for i, s in enumerate(script) if s.epochs == 1)
    script[trainer].hold = True  # the job trains until it is cancelled
    vertex.scripts.append(script)
    events = []
    handle = _start(make_backend(), store, feature_config, tiny_data, tmp_path, events)
    for event in handle.events(timeout=60):
        if event.kind == "epoch":
            break
    record = handle.cancel(timeout=30)
    assert record.status == "cancelled"
    assert [row["epoch"] for row in record.epoch_metrics] == [1]
    (job,) = vertex.jobs.values()
    assert job.cancelled and ("POST", f"/v1/{job.name}:cancel") in vertex.requests
    # it ended when Vertex reported CANCELLED, not when we asked
    assert job.last["state"] == "PIPELINE_STATE_CANCELLED"
    assert store.quick_tests.get(record.id).status == "cancelled"


def test_a_job_cancelled_from_the_console_ends_cancelled(
    vertex, store, feature_config, tiny_data, tmp_path
):
    script = success_script(epochs=2)
    script[3].hold = True
    vertex.scripts.append(script)
    events = []
    handle = _start(make_backend(), store, feature_config, tiny_data, tmp_path, events)
    for event in handle.events(timeout=60):
        if event.kind == "progress" and event.metrics.get("vertex_task") == "StatisticsGen":
            break
    (job,) = vertex.jobs.values()
    vertex.cancel(job.name)  # someone pressed Stop in the Cloud console
    record = handle.wait(60)
    assert record.status == "cancelled"


def test_503s_and_a_slow_answer_are_retried_not_failures(
    vertex, store, feature_config, tiny_data, tmp_path
):
    script = success_script(epochs=2)
    script[2:2] = [Step(http_status=503)] * 3 + [
        Step(tasks=tasks_up_to("CsvExampleGen"), delay=1.0)
    ]
    vertex.scripts.append(script)
    backend = make_backend(poll=PollPolicy(request_timeout=0.3))
    events = []
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, events)
    record = handle.wait(60)
    assert record.status == "completed", record.error_message
    assert [row["epoch"] for row in record.epoch_metrics] == [1, 2]
    assert any("does not answer" in w for w in record.warnings)
    # retries back off 5, 10, 20 s (then 40 capped at 30) with jitter in [½, 1]
    retries = [d for d in backend.sleep if d not in (5.0, 7.5, 11.25, 16.875, 25.3125, 30.0)]
    for delay, base in zip(retries, (5, 10, 20, 30), strict=False):
        assert base / 2 <= delay <= base


def test_epochs_stream_before_vertex_lists_the_trainer_outputs(
    vertex, store, feature_config, tiny_data, tmp_path
):
    """Vertex may list a task's output artifacts only once it ends: the rows still come
    epoch by epoch, from the path Vertex gives the Trainer's model_run."""
    vertex.outputs_while_running = False
    events = []
    handle = _start(make_backend(), store, feature_config, tiny_data, tmp_path, events)
    record = handle.wait(60)
    assert record.status == "completed", record.error_message
    epochs = [i for i, e in enumerate(events) if e.kind == "epoch"]
    pusher = next(i for i, e in enumerate(events) if e.metrics.get("vertex_task") == "Pusher")
    assert len(epochs) == 3 and max(epochs) < pusher  # all read while the Trainer ran


def test_a_compile_failure_and_a_refused_job_fail_with_the_reason(
    vertex, storage_client, store, feature_config, tiny_data, tmp_path
):
    def broken_compile(*args, **kwargs):
        raise FileNotFoundError("the TFX environment .venv-tfx is missing: run make tfx")

    handle = _start(
        make_backend(compile=broken_compile), store, feature_config, tiny_data, tmp_path, []
    )
    record = handle.wait(60)
    assert record.status == "failed" and record.error_stage == "transform"
    assert record.error_message == (
        "Compiling the TFX pipeline failed: FileNotFoundError: the TFX environment .venv-tfx "
        "is missing: run make tfx"
    )
    assert vertex.created == []

    vertex.refuse_create = (403, "Permission 'iam.serviceAccounts.actAs' denied")
    handle = _start(make_backend(), store, feature_config, tiny_data, tmp_path, [])
    record = handle.wait(60)
    assert record.status == "failed"
    assert "Vertex AI refused the pipeline job (403 Permission 'iam.serviceAccounts.actAs'" in (
        record.error_message
    )
    assert f"check that {SERVICE_ACCOUNT} exists" in record.error_message


def test_the_scale_lane_runs_transform_on_dataflow_and_prices_it(
    vertex, store, feature_config, tiny_data, tmp_path
):
    backend = make_backend(dataflow=True, enable_caching=False)
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, [])
    record = handle.wait(60)
    assert record.status == "completed", record.error_message
    (call,) = backend._compile.calls
    assert call["enable_cache"] is False
    args = call["beam_pipeline_args"]
    assert "--runner=DataflowRunner" in args and f"--project={PROJECT}" in args
    assert f"--temp_location={ROOT}/dataflow/tmp" in args and f"--region={REGION}" in args
    # caching off reaches the spec Vertex gets
    tasks = vertex.created[0]["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {t["cachingOptions"].get("enableCache", False) for t in tasks.values()} == {False}
    direct = estimate_quick_test(
        feature_config, model_config(), 10_000_000, machine="n1-standard-8"
    )
    scaled = estimate_quick_test(
        feature_config, model_config(), 10_000_000, machine="n1-standard-8", dataflow=True
    )
    assert "Dataflow: 2 n1-standard-4 workers" in scaled.explanation
    assert "DirectRunner" in direct.explanation and scaled.cost_usd > direct.cost_usd


def test_gs_and_bq_sources_go_to_the_pipeline_as_they_are(
    vertex, storage_client, store, feature_config, tiny_data, tmp_path
):
    backend = make_backend()
    handle = _start(backend, store, feature_config, "bq://tw-project.shop.purchases", tmp_path, [])
    record = handle.wait(60)
    assert record.status == "completed", record.error_message
    (call,) = backend._compile.calls
    assert call["data"] == "bq://tw-project.shop.purchases"
    assert record.split == {
        "kind": "pipeline",
        "source": "bq://tw-project.shop.purchases",
        "candidates": None,
    }
    assert "prepare data" not in [s["stage"] for s in record.stage_history]
    assert not _blobs(storage_client, f"root/towerwidgets/{vertex.created[0]['_job_id']}")

    from towerwidgets.runner import LocalBackend

    handle = _start(
        LocalBackend(keep_warm=False), store, feature_config, "gs://tw-bucket/x.csv", tmp_path, []
    )
    record = handle.wait(60)
    assert record.status == "failed"
    assert "is read by the TFX pipeline on Vertex AI, not on this machine" in record.error_message


def test_an_hour_without_an_answer_fails_saying_the_job_may_still_run(
    vertex, store, feature_config, tiny_data, tmp_path
):
    vertex.scripts.append([Step("PIPELINE_STATE_PENDING"), Step(http_status=503)])
    backend = make_backend()
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, [])
    record = handle.wait(60)
    assert record.status == "failed"
    assert record.error_message.startswith("Lost contact with Vertex AI for 60 min")
    assert "the job may still be running" in record.error_message
    assert backend.sleep.now > 3600  # on the injected clock: nobody waited an hour
    assert max(backend.sleep) <= 30


def test_the_compiler_is_called_with_the_signature_of_compile_pipeline(
    vertex, store, feature_config, tiny_data, tmp_path
):
    """Exactly towerwidgets.pipeline.compile_pipeline's documented parameters (options it
    does not take, such as project, are left out)."""
    from fakes.vertex_fake import FakeCompiler

    fake = FakeCompiler()

    def compile_pipeline(
        feature_config,
        model_config,
        data,
        *,
        output,
        pipeline_root,
        pipeline_name=None,
        image=None,
        rating_column=None,
        epochs=None,
        batch_size=None,
        learning_rate=None,
        beam_pipeline_args=None,
        trainer_machine=None,
        accelerator_type=None,
        accelerator_count=0,
        region=None,
        enable_cache=True,
    ):
        return fake(
            feature_config, model_config, data, output=output, pipeline_root=pipeline_root,
            pipeline_name=pipeline_name, image=image, epochs=epochs,
        )  # fmt: skip

    backend = make_backend(compile=compile_pipeline, image="europe-docker.pkg.dev/p/tw/tfx:1")
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, [], epochs=2)
    record = handle.wait(60)
    assert record.status == "completed", record.error_message
    (call,) = fake.calls
    assert call["image"] == "europe-docker.pkg.dev/p/tw/tfx:1" and call["epochs"] == 2


def test_missing_project_bucket_and_credentials_say_what_to_set_before_any_upload(
    vertex, storage_client, store, feature_config, tiny_data, tmp_path, monkeypatch
):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-key.json"))
    for name in ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    backend = make_backend(project="", pipeline_root="", credentials=None)
    events = []
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, events)
    record = handle.wait(60)
    assert record.status == "failed" and record.error_stage == "validate"
    message = record.error_message
    assert "a Google Cloud project" in message and "TOWERWIDGETS_VERTEX_PROJECT" in message
    assert "TOWERWIDGETS_VERTEX_BUCKET" in message
    assert "gcloud auth application-default login" in message
    assert "Nothing was uploaded" in message and "Traceback" not in message
    assert vertex.created == [] and vertex.requests == []
    assert "prepare data" not in [s["stage"] for s in record.stage_history]


def test_a_missing_bucket_is_named_with_the_command_that_creates_it(
    vertex, store, feature_config, tiny_data, tmp_path
):
    backend = make_backend(pipeline_root="gs://no-such-bucket/tw")
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, [])
    record = handle.wait(60)
    assert record.status == "failed"
    assert "gs://no-such-bucket does not exist" in record.error_message
    assert "gcloud storage buckets create gs://no-such-bucket" in record.error_message
    assert vertex.created == []


def test_an_unknown_machine_is_refused_with_the_choices():
    backend = make_backend(machine="tpu-v9")
    with pytest.raises(
        VertexSetupError,
        match=r"a machine type from the price table .Unknown Vertex AI machine type 'tpu-v9'; choose one of: e2-standard-8",
    ):
        backend.check()


def test_a_kernel_restart_reattaches_to_the_running_job(vertex, gcs, store, tmp_path, monkeypatch):
    """A kernel dies mid-training; a new kernel opens the store (the run is not failed as
    interrupted: it runs on Vertex AI), re-attaches and gets the remaining epochs."""
    from towerwidgets.store import Store

    script = success_script(epochs=3)
    trainer = next(i for i, s in enumerate(script) if s.epochs == 1)
    script[trainer].hold = True
    vertex.scripts.append(script)
    db = tmp_path / "kernel.db"
    here = Path(__file__).parent
    env = {
        **os.environ,
        "PYTHONPATH": str(here.parents[1]),
        "STORAGE_EMULATOR_HOST": gcs,
        "TOWERWIDGETS_STORE": "",
    }
    out = subprocess.run(
        [
            sys.executable,
            str(here / "scripts" / "dying_vertex_kernel.py"),
            str(db),
            str(tmp_path),
            vertex.endpoint,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=100,
    )
    assert out.returncode == 3, out.stdout + out.stderr
    assert "Creating PipelineJob" not in out.stdout  # the SDK's lines stay out of the cell
    test_id = int(out.stdout.split()[-1])
    with Store(db) as new_store:
        record = new_store.quick_tests.get(test_id)
        assert record.status == "running" and record.vertex_pipeline_id
        assert [row["epoch"] for row in record.epoch_metrics] == [1]
        assert [t.id for t in running_vertex_tests(new_store)] == [test_id]
        vertex.release()
        events = []
        handle = reattach_quick_test(
            test_id, new_store, backend=make_backend(), on_event=events.append
        )
        record = handle.wait(60)
        assert record.status == "completed", record.error_message
        assert [row["epoch"] for row in record.epoch_metrics] == [1, 2, 3]  # no repeats
        assert [e.epoch for e in events if e.kind == "epoch"] == [2, 3]
        assert record.owner_pid == os.getpid()
        assert new_store.quick_tests.get(test_id).status == "completed"
        # a finished test re-attaches as a finished handle
        again = reattach_quick_test(test_id, new_store, backend=make_backend())
        assert again.done and again.status == "completed"


def test_only_a_vertex_run_can_be_reattached(store, feature_config, add_quick_test):
    store.feature_configs.create(feature_config)
    mc = store.model_configs.create(model_config())
    record = add_quick_test(store, feature_config, mc)
    with pytest.raises(VertexSetupError, match="no Vertex AI job to re-attach"):
        reattach_quick_test(record.id, store, backend=make_backend())


def test_settings_come_from_the_file_then_the_environment(tmp_path, monkeypatch):
    for env in (
        "TOWERWIDGETS_VERTEX_PROJECT",
        "TOWERWIDGETS_VERTEX_BUCKET",
        "GOOGLE_CLOUD_PROJECT",
        "CLOUDSDK_CORE_PROJECT",
    ):
        monkeypatch.delenv(env, raising=False)
    assert VertexSettings.load(tmp_path) == VertexSettings()
    path = VertexSettings(project="p1", bucket="gs://b1", machine="n1-standard-4").save(tmp_path)
    assert json.loads(path.read_text())["project"] == "p1"
    assert VertexSettings.load(tmp_path).machine == "n1-standard-4"
    monkeypatch.setenv("TOWERWIDGETS_VERTEX_BUCKET", "gs://b2")
    loaded = VertexSettings.load(tmp_path)
    assert (loaded.project, loaded.bucket) == ("p1", "gs://b2")
    monkeypatch.setenv("TOWERWIDGETS_HOME", str(tmp_path))
    from towerwidgets.runner.vertex import VertexBackend

    backend = VertexBackend()
    assert (backend.project, backend.pipeline_root, backend.machine) == (
        "p1",
        "gs://b2",
        "n1-standard-4",
    )


def test_the_sdk_bucket_step_is_skipped_only_during_our_submit():
    from google.cloud.aiplatform import pipeline_jobs

    from towerwidgets.runner.vertex import _without_sdk_bucket_step

    name = "create_gcs_bucket_for_pipeline_artifacts_if_it_does_not_exist"
    original = getattr(pipeline_jobs.gcs_utils, name)  # an SDK upgrade renaming it shows here
    with _without_sdk_bucket_step():
        assert getattr(pipeline_jobs.gcs_utils, name) is not original
    assert getattr(pipeline_jobs.gcs_utils, name) is original


# ── the command line ────────────────────────────────────────────────────────────────────


@pytest.fixture
def adc(vertex, tmp_path, monkeypatch):
    """Application Default Credentials from a service-account key file (a throwaway key
    made here), its token endpoint on the fake: the real ADC path, offline."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "adc.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "adc-project",
                "private_key_id": "1",
                "private_key": pem,
                "client_email": SERVICE_ACCOUNT,
                "client_id": "1",
                "token_uri": f"{vertex.endpoint}/token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.setenv("TOWERWIDGETS_HOME", str(tmp_path))  # no settings file there
    for env in VertexSettings.__dataclass_fields__:
        monkeypatch.delenv(f"TOWERWIDGETS_VERTEX_{env.upper()}", raising=False)
    return path


def test_cli_pipeline_submit_waits_for_the_job(vertex, adc, storage_client, tmp_path, capsys):
    from fakes.vertex_fake import TASKS, FakeCompiler

    from towerwidgets.cli import main

    template = FakeCompiler()(None, None, None, output=tmp_path / "p.json", pipeline_root=ROOT)
    vertex.scripts.append(
        [Step("PIPELINE_STATE_SUCCEEDED", tasks=dict.fromkeys(TASKS, "SUCCEEDED"))]
    )
    code = main(
        [
            "pipeline",
            "submit",
            str(template),
            "--project",
            PROJECT,
            "--service-account",
            SERVICE_ACCOUNT,
            "--label",
            "team=recs",
            "--wait",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    (job,) = vertex.jobs.values()
    assert f"Submitted {job.name}" in out and "Console: https://console.cloud.google.com/" in out
    assert out.rstrip().endswith("completed")
    (sent,) = vertex.created
    assert sent["labels"] == {"towerwidgets": "pipeline", "team": "recs"}
    assert sent["runtimeConfig"]["gcsOutputDirectory"] == ROOT  # the root it was compiled for
    assert sent["serviceAccount"] == SERVICE_ACCOUNT
    # the compiler's uploads.json was honoured: the module wheel is on GCS
    assert "root/_wheels/tfx_user_code_Trainer-0.0+fake-py3-none-any.whl" in _blobs(
        storage_client, "root/_wheels/"
    )
    # every call carried the ADC's token (a self-signed JWT or one from the fake's /token)
    assert all(a.startswith("Bearer ") for a in vertex.authorization)


def test_cli_pipeline_submit_reports_a_failed_task(vertex, adc, tmp_path, capsys):
    from fakes.vertex_fake import FakeCompiler

    from towerwidgets.cli import main

    template = FakeCompiler()(None, None, None, output=tmp_path / "p.json", pipeline_root=ROOT)
    vertex.scripts.append(failing_transform_script("OOM in the Transform worker")[-1:])
    code = main(["pipeline", "submit", str(template), "--project", PROJECT, "--wait"])
    captured = capsys.readouterr()
    assert code == 1
    assert "error: Vertex AI task Transform failed: OOM in the Transform worker" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_cli_quicktest_on_vertex_without_a_bucket_says_what_to_set(
    vertex, adc, tmp_path, tiny_data, capsys, monkeypatch
):
    from towerwidgets.cli import main

    for env in ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
        monkeypatch.delenv(env, raising=False)
    data = tmp_path / "data.csv"
    tiny_data.to_csv(data, index=False)
    code = main(
        [
            "--store",
            str(tmp_path / "cli.db"),
            "quicktest",
            "--data",
            str(data),
            "--buyer-columns",
            "buyer_id",
            "--product-columns",
            "product_id",
            "--backend",
            "vertex",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "Vertex AI needs a Cloud Storage bucket" in " ".join(out.split())
    assert "TOWERWIDGETS_VERTEX_BUCKET" in " ".join(out.split())
    assert "Estimated cost" in out  # priced on the Vertex machine, not locally
    assert vertex.created == []


# ── the QuickTestPanel ──────────────────────────────────────────────────────────────────


def test_the_panel_runs_on_vertex_and_links_the_console(
    vertex, store, feature_config, tiny_data, tmp_path, monkeypatch
):
    from towerwidgets.widgets.quick_test import QuickTestPanel

    monkeypatch.setenv("TOWERWIDGETS_HOME", str(tmp_path))
    for env in (
        "TOWERWIDGETS_VERTEX_PROJECT",
        "TOWERWIDGETS_VERTEX_BUCKET",
        "GOOGLE_CLOUD_PROJECT",
    ):
        monkeypatch.delenv(env, raising=False)
    store.feature_configs.create(feature_config)
    mc = store.model_configs.create(model_config(epochs=3))

    # chosen without settings: Start waits for a project and a bucket
    panel = QuickTestPanel(store, data=tiny_data)
    panel.select(feature_config.id, mc.id)
    panel.run_on = "vertex"
    check = next(c for c in panel.checks if c["label"] == "Vertex AI")
    assert not check["ok"] and check["text"].startswith("Set the project and the bucket")
    assert not panel.can_start
    panel.vertex_settings = {"project": PROJECT, "region": REGION, "bucket": ROOT}
    assert panel.can_start, panel.checks
    assert panel._backend().pipeline_root == ROOT  # and the settings are remembered
    assert VertexSettings.load(tmp_path).bucket == ROOT

    # with a configured backend (here: pointed at the fakes), a run streams like a local one
    panel = QuickTestPanel(store, data=tiny_data, vertex_backend=make_backend())
    panel.select(feature_config.id, mc.id)
    panel.run_on = "vertex"
    assert panel.can_start, panel.checks
    panel.start()
    panel.wait(60)
    assert panel.status == "completed", panel.message
    assert [row["epoch"] for row in panel.metrics.rows] == [1, 2, 3]
    assert panel.result["backend"] == "vertex"
    assert panel.result["console_url"].startswith("https://console.cloud.google.com/vertex-ai/")
    assert panel.recent[0]["console_url"] == panel.result["console_url"]


# ── with the real compiler (the TFX lane, issue 9) ──────────────────────────────────────


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_real_compiled_pipeline_is_what_vertex_receives(
    vertex, storage_client, store, feature_config, tiny_data, tmp_path
):
    """The JSON KubeflowV2DagRunner compiled from these configs reaches Vertex AI with our
    labels, root and service account. Needs the TFX environment (.venv-tfx or
    TOWERWIDGETS_TFX_PYTHON); skipped without it."""
    pipeline = pytest.importorskip("towerwidgets.pipeline")
    try:
        pipeline.tfx_python()
    except pipeline.TFXEnvironmentError as error:
        pytest.skip(str(error))
    backend = make_backend(compile=pipeline.compile_pipeline, machine="n1-standard-8+t4")
    handle = _start(backend, store, feature_config, tiny_data, tmp_path, [], epochs=2)
    record = handle.wait(850)
    assert record.status == "completed", record.error_message
    (sent,) = vertex.created
    spec = sent["pipelineSpec"]
    print("sdkVersion", spec.get("sdkVersion"), "tasks", sorted(spec["root"]["dag"]["tasks"]))
    assert str(spec.get("sdkVersion", "")).startswith("tfx-1.16")
    tasks = set(spec["root"]["dag"]["tasks"])
    assert {"StatisticsGen", "SchemaGen", "Transform", "Trainer", "Pusher"} <= tasks
    assert any(name.endswith("ExampleGen") for name in tasks)
    assert sent["runtimeConfig"]["gcsOutputDirectory"] == ROOT
    assert sent["labels"]["quick-test-id"] == str(record.id)
    assert sent["serviceAccount"] == SERVICE_ACCOUNT
    text = json.dumps(spec)
    assert "n1-standard-8" in text and "NVIDIA_TESLA_T4" in text  # the priced machine
    # the split made there from the same rows and seed, uploaded with the module wheels
    assert f"{ROOT}/data/" in text and "_wheels" in text
    uploaded = _blobs(storage_client, "root/")
    assert any(name.startswith("root/_wheels/") for name in uploaded)
    assert any(name.endswith("/train/data.csv") for name in uploaded)


def test_which_errors_are_worth_another_try():
    from google.api_core import exceptions as gexc

    from towerwidgets.runner.vertex import _transient

    assert _transient(gexc.ServiceUnavailable("overloaded"))
    assert _transient(gexc.TooManyRequests("slow down"))
    assert not _transient(gexc.NotFound("no such job"))
    assert not _transient(ValueError("a bug of ours"))
