"""Vertex AI Pipelines backend: submit the TFX pipeline of a quick test, follow it, cancel it.

``VertexBackend.submit`` checks the settings (project, bucket, credentials) before anything
leaves the machine, compiles the pipeline (``towerwidgets.pipeline.compile_pipeline``,
injectable), uploads the prepared splits to Cloud Storage and submits the compiled JSON
with google-cloud-aiplatform. ``VertexRun`` polls the job on a background thread and turns
its state and task details into the same events a local worker streams (stages, per-epoch
rows from the Trainer's ``metrics.jsonl``, error, done), so the record, the widgets and
the CLI show a Vertex run exactly like a local one.

The Google clients are imported lazily: importing this module stays light.

The artifacts bucket: ``PipelineJob.submit()`` always calls the SDK's
``create_gcs_bucket_for_pipeline_artifacts_if_it_does_not_exist``, which may *create* a
bucket named after the project, change its IAM policy, and asks Resource Manager who owns
an existing one (a call that needs ``resourcemanager.projects.get`` and, without network,
retries for about a minute). We never create buckets on a user's behalf: our own check
(:meth:`VertexBackend.check`) reads the bucket the user named and says what to do when it
is missing or unreadable, so the SDK's step is skipped for our submission (see
:func:`_without_sdk_bucket_step`).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from towerwidgets.runner.backends import Backend, EventCallback, Run
from towerwidgets.runner.estimates import machine_spec
from towerwidgets.runner.events import stage_percent
from towerwidgets.runner.prepare import QuickTestInputError

__all__ = [
    "PollPolicy",
    "VertexBackend",
    "VertexRun",
    "VertexSettings",
    "VertexSetupError",
    "console_url",
    "dataflow_beam_args",
    "reattach_quick_test",
    "running_vertex_tests",
    "submit_pipeline",
]

SETTINGS_FILE = "vertex.json"
DEFAULT_REGION = "us-central1"
DEFAULT_MACHINE = "n1-standard-8"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
SETTINGS_ENV = {
    "project": "TOWERWIDGETS_VERTEX_PROJECT",
    "region": "TOWERWIDGETS_VERTEX_REGION",
    "bucket": "TOWERWIDGETS_VERTEX_BUCKET",
    "machine": "TOWERWIDGETS_VERTEX_MACHINE",
    "service_account": "TOWERWIDGETS_VERTEX_SERVICE_ACCOUNT",
    "network": "TOWERWIDGETS_VERTEX_NETWORK",
    "image": "TOWERWIDGETS_VERTEX_IMAGE",
}
_LABEL_RE = re.compile(r"[^a-z0-9_-]+")

TERMINAL = ("PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED")

# TFX components → (quick-test stage, fraction of that stage when the component starts).
_TASK_STAGES: tuple[tuple[str, str, float], ...] = (
    ("ExampleGen", "transform", 0.0),
    ("StatisticsGen", "transform", 0.2),
    ("SchemaGen", "transform", 0.35),
    ("Transform", "transform", 0.5),
    ("Trainer", "train", 0.0),
    ("Evaluator", "evaluate", 0.0),
    ("Pusher", "export", 0.0),
)


class VertexSetupError(QuickTestInputError):
    """Vertex AI cannot be used as configured: the message says what to set."""


# ── settings ────────────────────────────────────────────────────────────────────────────


@dataclass
class VertexSettings:
    """Where Vertex AI runs go. Never holds secrets: credentials come from Application
    Default Credentials (``gcloud auth application-default login``, a Workbench VM, or
    ``GOOGLE_APPLICATION_CREDENTIALS``)."""

    project: str = ""
    region: str = DEFAULT_REGION
    bucket: str = ""  # gs://BUCKET[/prefix]: the pipeline root; data is uploaded below it
    machine: str = DEFAULT_MACHINE
    service_account: str = ""
    network: str = ""
    image: str = ""

    @staticmethod
    def path(home: str | Path | None = None) -> Path:
        from towerwidgets.runner.api import towerwidgets_home

        return (Path(home) if home else towerwidgets_home()) / SETTINGS_FILE

    @classmethod
    def load(cls, home: str | Path | None = None) -> VertexSettings:
        """The settings file (``<TOWERWIDGETS_HOME>/vertex.json``), then the environment
        (``TOWERWIDGETS_VERTEX_*``, ``GOOGLE_CLOUD_PROJECT``) on top."""
        values: dict[str, str] = {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(cls.path(home).read_text())
            names = {f.name for f in fields(cls)}
            values = {k: str(v) for k, v in data.items() if k in names and v}
        for name, env in SETTINGS_ENV.items():
            if os.environ.get(env):
                values[name] = os.environ[env]
        if not values.get("project"):
            for env in ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
                if os.environ.get(env):
                    values["project"] = os.environ[env]
                    break
        return cls(**values)

    def save(self, home: str | Path | None = None) -> Path:
        path = self.path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path


@dataclass(frozen=True)
class PollPolicy:
    """Polling: ``initial`` seconds after a change, backing off by ``factor`` up to
    ``maximum`` while nothing changes. Transient errors retry with jitter; a run is failed
    only after ``give_up_after`` seconds without one good answer."""

    initial: float = 5.0
    factor: float = 1.5
    maximum: float = 30.0
    warn_after_failures: int = 3
    give_up_after: float = 3600.0
    request_timeout: float = 60.0


def console_url(resource_name: str, project: str = "") -> str:
    """The Cloud console page of a pipeline job."""
    match = re.fullmatch(
        r"projects/([^/]+)/locations/([^/]+)/pipelineJobs/([^/]+)", resource_name or ""
    )
    if not match:
        return ""
    owner, location, job_id = match.groups()
    return (
        f"https://console.cloud.google.com/vertex-ai/locations/{location}/pipelines/runs/"
        f"{job_id}?project={project or owner}"
    )


def _label(value: Any) -> str:
    """A Vertex label value: lowercase letters, digits, '_' and '-', at most 63 chars."""
    return _LABEL_RE.sub("-", str(value).lower())[:63] or "none"


def _split_gs(uri: str) -> tuple[str, str]:
    bucket, _, path = uri[len("gs://") :].partition("/")
    return bucket, path.strip("/")


def _state_name(value: Any) -> str:
    name = getattr(value, "name", None) or str(value)
    return name.split(".")[-1]


def _transient(error: BaseException) -> bool:
    """Worth another try: overload, timeouts, dropped connections."""
    from google.api_core import exceptions as gexc  # installed with google-cloud-aiplatform

    retryable = (
        gexc.ServiceUnavailable,
        gexc.TooManyRequests,
        gexc.InternalServerError,
        gexc.BadGateway,
        gexc.GatewayTimeout,
        gexc.DeadlineExceeded,
        gexc.RetryError,
    )
    if isinstance(error, retryable):
        return True
    if isinstance(error, gexc.GoogleAPICallError):
        return False
    with contextlib.suppress(ImportError):
        import requests

        if isinstance(error, requests.exceptions.RequestException):
            return True
    with contextlib.suppress(ImportError):
        from google.auth.exceptions import TransportError

        if isinstance(error, TransportError):
            return True
    return isinstance(error, ConnectionError | TimeoutError)


_SDK_BUCKET_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_sdk_bucket_step() -> Iterator[None]:
    """Skip the SDK's get-or-create of the artifacts bucket during one ``submit()``.

    Our own :meth:`VertexBackend.check` has read the bucket already; the SDK's step would
    create a bucket we were not asked for, or stall on Resource Manager. If a future SDK
    renames the function, nothing is skipped (slower, still correct).
    """
    from google.cloud.aiplatform import pipeline_jobs

    gcs_utils = pipeline_jobs.gcs_utils
    name = "create_gcs_bucket_for_pipeline_artifacts_if_it_does_not_exist"
    original = getattr(gcs_utils, name, None)
    if original is None:
        yield
        return
    with _SDK_BUCKET_LOCK:
        setattr(gcs_utils, name, lambda **_: None)
        try:
            yield
        finally:
            setattr(gcs_utils, name, original)


def dataflow_beam_args(
    project: str,
    region: str,
    temp_location: str,
    *,
    max_workers: int | None = None,
    machine_type: str = "n1-standard-4",
) -> list[str]:
    """``beam_pipeline_args`` that run the pipeline's Beam components on Dataflow."""
    from towerwidgets.runner.estimates import DATAFLOW_MAX_WORKERS

    return [
        "--runner=DataflowRunner",
        f"--project={project}",
        f"--region={region}",
        f"--temp_location={temp_location.rstrip('/')}/tmp",
        f"--staging_location={temp_location.rstrip('/')}/staging",
        f"--machine_type={machine_type}",
        f"--max_num_workers={max_workers or DATAFLOW_MAX_WORKERS}",
        "--experiments=use_runner_v2",
    ]


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


@contextlib.contextmanager
def _quiet_sdk_info() -> Iterator[None]:
    """The SDK prints "Creating PipelineJob …" lines to stdout (forced on for TFX
    pipelines); from a background thread they land in whatever notebook cell runs. The run's
    own events carry the job name and console link, so drop those lines while we submit."""
    logger = logging.getLogger("google.cloud.aiplatform.pipeline_jobs")
    quiet = _BelowWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


# ── the backend ─────────────────────────────────────────────────────────────────────────


class VertexBackend(Backend):
    """Runs a quick test as the TFX pipeline of the same modules on Vertex AI Pipelines.

    Every argument left out comes from :class:`VertexSettings` (settings file, then
    ``TOWERWIDGETS_VERTEX_*``). ``machine`` is a key of the price table
    (``estimates.MACHINE_PRICES``), so the estimate and the submission agree.
    ``compile`` has the signature of ``towerwidgets.pipeline.compile_pipeline`` (the
    default); ``credentials`` default to Application Default Credentials; ``sleep``,
    ``clock`` and ``rng`` drive polling (tests inject them).
    """

    name = "vertex"
    keep_warm = False
    uses_local_cache = False  # the pipeline needs the data itself, not a local cache hit
    reads_remote_data = True  # gs:// and bq:// sources go to the pipeline as they are
    wants_source_data = True  # the compiler re-splits the data itself, like a quick test

    def __init__(
        self,
        project: str | None = None,
        region: str | None = None,
        pipeline_root: str | None = None,
        machine: str | None = None,
        service_account: str | None = None,
        network: str | None = None,
        image: str | None = None,
        *,
        credentials: Any = None,
        compile: Callable[..., Path] | None = None,
        enable_caching: bool = True,
        dataflow: bool = False,
        beam_pipeline_args: list[str] | None = None,
        poll: PollPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        settings: VertexSettings | None = None,
    ):
        s = settings or VertexSettings.load()
        self.project = project or s.project
        self.region = region or s.region or DEFAULT_REGION
        self.pipeline_root = (pipeline_root or s.bucket).rstrip("/")
        self.machine = machine or s.machine or DEFAULT_MACHINE
        self.service_account = service_account or s.service_account or None
        self.network = network or s.network or None
        self.image = image or s.image or None
        self.credentials = credentials
        self._compile = compile
        self.enable_caching = enable_caching
        self.dataflow = dataflow
        self._beam_pipeline_args = beam_pipeline_args
        self.poll = poll or PollPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self._checked = False

    @property
    def beam_pipeline_args(self) -> list[str] | None:
        """Given ones, else Dataflow's when ``dataflow=True`` (Transform and StatisticsGen
        scale past one machine), else None (DirectRunner inside the pipeline)."""
        if self._beam_pipeline_args is not None:
            return list(self._beam_pipeline_args)
        if not self.dataflow:
            return None
        return dataflow_beam_args(self.project, self.region, f"{self.pipeline_root}/dataflow")

    def __repr__(self) -> str:
        return (
            f"VertexBackend(project={self.project!r}, region={self.region!r}, "
            f"pipeline_root={self.pipeline_root!r}, machine={self.machine!r})"
        )

    # ── checks ──────────────────────────────────────────────────────────────────────────

    def check(self) -> None:
        """Everything a submission needs, before anything is uploaded: one message that
        lists what to set (project, bucket, machine), then credentials, then the bucket."""
        if self._checked:
            return
        problems = []
        try:
            machine_spec(self.machine)
        except ValueError as error:
            problems.append(f"a machine type from the price table ({error})")
        if not self.pipeline_root:
            problems.append(
                "a Cloud Storage bucket for pipeline artifacts and data: pass "
                "pipeline_root='gs://BUCKET/towerwidgets' or set TOWERWIDGETS_VERTEX_BUCKET"
            )
        elif not self.pipeline_root.startswith("gs://") or not _split_gs(self.pipeline_root)[0]:
            problems.append(f"a pipeline root that is a gs:// path (not {self.pipeline_root!r})")
        credentials = self._credentials(problems)
        if not self.project:
            problems.insert(
                0,
                "a Google Cloud project: pass project='PROJECT_ID' or set "
                "TOWERWIDGETS_VERTEX_PROJECT (or GOOGLE_CLOUD_PROJECT)",
            )
        if problems:
            raise VertexSetupError(
                "Vertex AI needs " + "; ".join(problems) + ". Nothing was uploaded."
            )
        self.credentials = credentials
        self._check_bucket()
        self._checked = True

    def _credentials(self, problems: list[str]) -> Any:
        if self.credentials is not None:
            return self.credentials
        try:
            import google.auth
            from google.auth.exceptions import DefaultCredentialsError
        except ImportError:
            problems.append(
                "google-cloud-aiplatform and google-cloud-storage: pip install 'towerwidgets[vertex]'"
            )
            return None
        try:
            credentials, adc_project = google.auth.default(scopes=list(SCOPES))
        except DefaultCredentialsError:
            problems.append(
                "Google Cloud credentials: run `gcloud auth application-default login`, or set "
                "GOOGLE_APPLICATION_CREDENTIALS to a service account key file (a Vertex AI "
                "Workbench notebook has them already)"
            )
            return None
        if not self.project and adc_project:
            self.project = adc_project
        return credentials

    def _storage(self) -> Any:
        from google.cloud import storage

        return storage.Client(project=self.project, credentials=self.credentials)

    def _check_bucket(self) -> None:
        from google.api_core import exceptions as gexc

        bucket, prefix = _split_gs(self.pipeline_root)
        try:
            # Listing needs only storage.objects.list, which object roles grant; reading the
            # bucket itself (buckets.get) would refuse users who can write there.
            blobs = self._storage().list_blobs(
                bucket, prefix=prefix or None, max_results=1, timeout=self.poll.request_timeout
            )
            list(blobs)
        except gexc.NotFound:
            raise VertexSetupError(
                f"The bucket gs://{bucket} does not exist. Create it in {self.region} "
                f"(gcloud storage buckets create gs://{bucket} --project={self.project} "
                f"--location={self.region}) or set another one. Nothing was uploaded."
            ) from None
        except gexc.Forbidden as error:
            raise VertexSetupError(
                f"These credentials cannot read the bucket gs://{bucket} ({error.message}). "
                "Grant them roles/storage.objectAdmin on it or set another one. "
                "Nothing was uploaded."
            ) from None
        except Exception as error:
            if _transient(error):
                raise VertexSetupError(
                    f"Cloud Storage could not be reached to check gs://{bucket}: {error}"
                ) from None
            raise

    # ── submit ──────────────────────────────────────────────────────────────────────────

    def compile_pipeline(self, **kwargs: Any) -> Path:
        """Compile with the injected compiler, else towerwidgets.pipeline (the TFX lane)."""
        compile_ = self._compile
        if compile_ is None:
            try:
                from towerwidgets.pipeline import compile_pipeline as compile_
            except ImportError as error:
                raise VertexSetupError(
                    f"The TFX pipeline compiler is not available ({error}); install the TFX lane "
                    "(towerwidgets.pipeline and its .venv-tfx) to submit to Vertex AI",
                    stage="transform",
                ) from None
        with contextlib.suppress(TypeError, ValueError):  # builtins may have no signature
            accepted = inspect.signature(compile_).parameters
            if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
                # options a compiler does not take yet (e.g. project) are left out
                kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        try:
            return Path(compile_(**kwargs))
        except Exception as error:
            raise VertexSetupError(
                f"Compiling the TFX pipeline failed: {type(error).__name__}: {error}",
                stage="transform",
            ) from error

    def _upload_splits(self, paths: dict[str, str], data_uri: str) -> dict[str, str]:
        """The prepared train/eval splits as CSV files in one folder on GCS (the fallback when
        the original rows cannot be handed over: ExampleGen then hash-splits the folder)."""
        import pandas as pd

        bucket_name, prefix = _split_gs(data_uri)
        bucket = self._storage().bucket(bucket_name)
        uploaded = {}
        for split in ("train", "eval"):
            if split not in paths:
                continue
            csv = pd.read_parquet(paths[split]).to_csv(index=False)
            blob = bucket.blob(f"{prefix}/{split}.csv")
            blob.upload_from_string(csv, content_type="text/csv")
            uploaded[split] = f"gs://{bucket_name}/{blob.name}"
        return uploaded

    def upload_manifest(self, template: str | Path) -> list[str]:
        """Copy what the compiler listed in ``<pipeline>.uploads.json`` (the module wheels
        under ``<root>/_wheels``, the data split) to Cloud Storage; returns the gs:// paths."""
        manifest = Path(template).with_name(Path(template).name + ".uploads.json")
        if not manifest.is_file():
            return []
        try:
            entries = json.loads(manifest.read_text())
            pairs = [(str(e["local"]), str(e["remote"])) for e in entries]
        except (ValueError, KeyError, TypeError) as error:
            raise VertexSetupError(f"{manifest} is not an upload list: {error}") from None
        missing = [local for local, _ in pairs if not Path(local).is_file()]
        if missing:
            raise VertexSetupError(
                f"The pipeline needs {', '.join(missing)} uploaded, but it is gone: compile "
                "the pipeline again",
                stage="transform",
            )
        client = self._storage()
        copied = []
        for local, remote in pairs:
            if not remote.startswith("gs://"):
                raise VertexSetupError(f"{manifest} lists {remote!r}, not a gs:// path")
            bucket, path = _split_gs(remote)
            client.bucket(bucket).blob(path).upload_from_filename(local)
            copied.append(remote)
        return copied

    def labels(self, job: dict[str, Any]) -> dict[str, str]:
        """Labels that find the run from the console and the billing report."""
        labels = {"towerwidgets": "quick-test" if job.get("test_id") else "pipeline"}
        for key, label in (
            ("test_id", "quick-test-id"),
            ("feature_config_id", "feature-config-id"),
            ("model_config_id", "model-config-id"),
        ):
            if job.get(key) is not None:
                labels[label] = _label(job[key])
        return labels

    def submit(self, job: dict[str, Any], job_path: Path, on_event: EventCallback) -> VertexRun:
        """Check, compile, upload the splits, submit; returns the run being followed."""
        from towerwidgets.config import FeatureConfig, ModelConfig

        self.check()
        test_id = job.get("test_id")
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        job_id = f"towerwidgets-qt-{test_id or 'x'}-{stamp}"
        custom = job.get("custom_config") or {}
        spec = machine_spec(self.machine)
        splits = job.get("data") or {}
        data_uri = splits.get("source") or f"{self.pipeline_root}/towerwidgets/{job_id}/data"
        # gs:// or bq:// as given; else the original rows, which the compiler splits exactly
        # as this quick test did (same seed) and lists for upload; else our own splits.
        data = splits.get("source") or job.get("source_data") or data_uri
        template = self.compile_pipeline(
            feature_config=FeatureConfig.from_dict(job["feature_config"]),
            model_config=ModelConfig.from_dict(job["model_config"]),
            data=data,
            output=Path(job["run_dir"]) / "pipeline.json",
            pipeline_root=self.pipeline_root,
            pipeline_name=job_id,
            image=self.image,
            rating_column=job.get("rating_column") or None,
            epochs=custom.get("epochs"),
            batch_size=custom.get("batch_size"),
            learning_rate=custom.get("learning_rate"),
            beam_pipeline_args=self.beam_pipeline_args,
            trainer_machine=spec["machine_type"],
            accelerator_type=spec["accelerator_type"] or None,
            accelerator_count=int(spec["accelerator_count"]),
            region=self.region,
            enable_cache=self.enable_caching,
            project=self.project,  # the Vertex Trainer's training args need it
            seed=custom.get("seed"),
            split=job.get("split") or "random",
        )
        if data == data_uri:
            uploaded = self._upload_splits(splits, data_uri)
            on_event({"kind": "info", "stage": "transform", "metrics": {"vertex_data": uploaded}})
        copied = self.upload_manifest(template)
        if copied:
            on_event({"kind": "info", "stage": "transform", "metrics": {"vertex_uploads": copied}})
        pipeline_job = self.submit_template(template, job_id=job_id, labels=self.labels(job))
        epochs = int(custom.get("epochs") or job.get("model_config", {}).get("epochs") or 1)
        return self.follow(pipeline_job, on_event, epochs=epochs)

    def submit_template(
        self, template: str | Path, *, job_id: str | None = None, labels: dict[str, str]
    ) -> Any:
        """Submit a compiled pipeline JSON; returns the SDK's PipelineJob."""
        from google.cloud import aiplatform

        self.check()
        pipeline_job = aiplatform.PipelineJob(
            display_name=job_id or Path(template).stem,
            template_path=str(template),
            job_id=job_id,
            pipeline_root=self.pipeline_root,
            labels=labels,
            enable_caching=self.enable_caching,
            project=self.project,
            location=self.region,
            credentials=self.credentials,
        )
        from google.api_core import exceptions as gexc

        try:
            with _without_sdk_bucket_step(), _quiet_sdk_info():
                pipeline_job.submit(service_account=self.service_account, network=self.network)
        except gexc.GoogleAPICallError as error:
            detail = re.sub(r"^[A-Z]+ https?://\S+: ", "", str(error.message))
            raise VertexSetupError(
                f"Vertex AI refused the pipeline job ({error.code} {detail})"
                + (
                    f": check that {self.service_account} exists and that you may act as it"
                    if self.service_account and error.code == 403
                    else ""
                ),
                stage="transform",
            ) from None
        return pipeline_job

    def follow(
        self, pipeline_job: Any, on_event: EventCallback, *, epochs: int = 1, seen_epochs: int = 0
    ) -> VertexRun:
        """Report the job's identity, then follow it on a background thread."""
        name = pipeline_job.resource_name
        on_event(
            {
                "kind": "info",
                "stage": "transform",
                "metrics": {
                    "vertex_pipeline_id": name,
                    "vertex_console_url": console_url(name, self.project),
                },
            }
        )
        return VertexRun(
            pipeline_job,
            on_event,
            storage_client=self._storage(),
            project=self.project,
            epochs=epochs,
            seen_epochs=seen_epochs,
            policy=self.poll,
            sleep=self.sleep,
            clock=self.clock,
            rng=self.rng,
        )

    def attach(
        self, resource_name: str, on_event: EventCallback, *, epochs: int = 1, seen_epochs: int = 0
    ) -> VertexRun:
        """Follow a job submitted earlier (after a kernel restart)."""
        from google.cloud import aiplatform

        match = re.fullmatch(
            r"projects/([^/]+)/locations/([^/]+)/pipelineJobs/[^/]+", resource_name
        )
        if not match:
            raise VertexSetupError(f"Not a Vertex AI pipeline job name: {resource_name!r}")
        if not self.project:
            self.project = match.group(1)
        self.region = match.group(2)
        if self.credentials is None:
            problems: list[str] = []
            self.credentials = self._credentials(problems)
            if problems:
                raise VertexSetupError("Vertex AI needs " + "; ".join(problems))
        pipeline_job = aiplatform.PipelineJob.get(
            resource_name, project=self.project, location=self.region, credentials=self.credentials
        )
        return self.follow(pipeline_job, on_event, epochs=epochs, seen_epochs=seen_epochs)


# ── following a job ─────────────────────────────────────────────────────────────────────


def _task_stage(task_name: str) -> tuple[str, float, int] | None:
    for order, (suffix, stage, fraction) in enumerate(_TASK_STAGES):
        if task_name.endswith(suffix):
            return stage, fraction, order
    return None


class VertexRun(Run):
    """A submitted pipeline job, followed on a background thread.

    Each poll reads the job once (state and task details), emits what changed as local
    worker events, and reads the Trainer's ``metrics.jsonl`` for new epoch rows while it
    runs. ``wait`` only waits for that thread.
    """

    def __init__(
        self,
        pipeline_job: Any,
        on_event: EventCallback,
        *,
        storage_client: Any = None,
        project: str = "",
        epochs: int = 1,
        seen_epochs: int = 0,
        policy: PollPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self.job = pipeline_job
        self.resource_name: str = pipeline_job.resource_name
        self.console_url = console_url(self.resource_name, project)
        self.pid = None
        self.ended_cancelled = False  # Vertex reported CANCELLED (asked here or elsewhere)
        self.state = ""
        self.error_message = ""
        self._on_event = on_event
        self._storage = storage_client
        self._epochs = max(1, int(epochs))
        self._seen_epochs = int(seen_epochs)
        self._policy = policy or PollPolicy()
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._sleep = sleep if sleep is not None else self._wait_or_wake
        self._clock = clock
        self._cancel_requested = False
        self._code: int | None = None
        self._finished = threading.Event()
        self._stage = ""
        self._task = ""
        self._metrics_uri = ""
        self._thread = threading.Thread(
            target=self._follow,
            name=f"tw-vertex-{self.resource_name.rsplit('/', 1)[-1]}",
            daemon=True,
        )
        self._thread.start()

    # ── Run ─────────────────────────────────────────────────────────────────────────────

    def wait(self, timeout: float | None = None) -> int | None:
        if self._finished.wait(timeout):
            return self._code
        return None

    def cancel(self) -> None:
        """Ask Vertex to cancel; the run ends once Vertex reports the job cancelled."""
        if self._finished.is_set():
            return
        self._cancel_requested = True
        for attempt in range(3):
            try:
                self.job.api_client.cancel_pipeline_job(
                    name=self.resource_name, timeout=self._policy.request_timeout
                )
                break
            except Exception as error:
                if not _transient(error) or attempt == 2:
                    self._emit("warning", message=f"Could not cancel the Vertex AI job: {error}")
                    break
        self._wake.set()

    def failure_reason(self, stage: str) -> str:
        reason = self.error_message or f"the pipeline ended {self.state or 'without a state'}"
        return f"The Vertex AI pipeline failed during {stage!r}: {reason} (console: {self.console_url})"

    # ── the loop ────────────────────────────────────────────────────────────────────────

    def _wait_or_wake(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _emit(self, kind: str, **payload: Any) -> None:
        with contextlib.suppress(Exception):
            self._on_event({"kind": kind, **payload})

    def _get(self) -> Any:
        return self.job.api_client.get_pipeline_job(
            name=self.resource_name, timeout=self._policy.request_timeout
        )

    def _follow(self) -> None:
        policy = self._policy
        delay = policy.initial
        failures = 0
        outage_started: float | None = None
        try:
            while True:
                try:
                    resource = self._get()
                except Exception as error:
                    if not _transient(error):
                        return self._end(1, f"Vertex AI refused to report the job: {error}")
                    failures += 1
                    outage_started = outage_started or self._clock()
                    if failures == policy.warn_after_failures:
                        self._emit(
                            "warning",
                            stage=self._stage,
                            message=f"Vertex AI does not answer ({error}); still trying",
                        )
                    if self._clock() - outage_started > policy.give_up_after:
                        return self._end(
                            1,
                            f"Lost contact with Vertex AI for {policy.give_up_after / 60:.0f} "
                            f"min ({error}); the job may still be running: see the console or "
                            "re-attach with towerwidgets.runner.vertex.reattach_quick_test",
                        )
                    backoff = min(policy.maximum, policy.initial * 2 ** (failures - 1))
                    self._sleep(backoff * (0.5 + self._rng.random() / 2))
                    continue
                failures, outage_started = 0, None
                changed = self._apply(resource)
                if self.state in TERMINAL:
                    return self._finish_state(resource)
                delay = (
                    policy.initial
                    if changed or self._cancel_requested
                    else min(policy.maximum, delay * policy.factor)
                )
                self._sleep(delay)
        except Exception as error:  # never leave a run without an end
            self._end(1, f"Following the Vertex AI job failed: {type(error).__name__}: {error}")

    def _end(self, code: int, message: str = "") -> None:
        if message:
            self.error_message = message
            self._emit("error", stage=self._stage or "transform", message=message)
        self._code = code
        self._finished.set()

    def _apply(self, resource: Any) -> bool:
        """Emit the events for one answer; True when anything moved."""
        changed = False
        state = _state_name(resource.state)
        if state != self.state:
            self.state = state
            changed = True
        tasks = list(resource.job_detail.task_details)
        furthest: tuple[int, str, str, float] | None = None
        for task in tasks:
            mapped = _task_stage(task.task_name)
            task_state = _state_name(task.state)
            if mapped is None or task_state not in ("RUNNING", "SUCCEEDED", "FAILED"):
                continue
            stage, fraction, order = mapped
            if task.task_name.endswith("Trainer"):
                self._metrics_uri = self._trainer_metrics_uri(task, resource) or self._metrics_uri
            if furthest is None or order > furthest[0]:
                furthest = (order, task.task_name, stage, fraction)
        if furthest is not None:
            _, task_name, stage, fraction = furthest
            if stage != self._stage:
                self._stage = stage
                self._emit("stage", stage=stage, progress_percent=stage_percent(stage, fraction))
                changed = True
            if task_name != self._task:
                self._task = task_name
                self._emit(
                    "progress",
                    stage=stage,
                    progress_percent=stage_percent(stage, fraction),
                    metrics={"vertex_task": task_name},
                )
                changed = True
        elif state in ("PIPELINE_STATE_QUEUED", "PIPELINE_STATE_PENDING") and changed:
            self._emit("progress", stage="transform", metrics={"vertex_state": state})
        if self._stage in ("train", "evaluate", "export") and self._read_epochs():
            changed = True
        return changed

    def _trainer_metrics_uri(self, task: Any, resource: Any) -> str:
        """The Trainer's ``model_run`` artifact; while Vertex does not list it yet, the
        path Vertex gives it: ``<root>/<project number>/<job id>/<task>_<task id>/model_run``."""
        for key in ("model_run", "model_run_dir"):
            artifact = task.outputs.get(key) if task.outputs else None
            if artifact and artifact.artifacts and artifact.artifacts[0].uri:
                return artifact.artifacts[0].uri.rstrip("/") + "/metrics.jsonl"
        root = resource.runtime_config.gcs_output_directory.rstrip("/")
        parts = self.resource_name.split("/")
        if not root.startswith("gs://") or len(parts) != 6 or not task.task_id:
            return ""
        run = f"{root}/{parts[1]}/{parts[5]}/{task.task_name}_{task.task_id}/model_run"
        return run + "/metrics.jsonl"

    def _read_epochs(self) -> bool:
        """New rows of the Trainer's metrics.jsonl as epoch events (rewritten each epoch)."""
        if not self._metrics_uri or self._storage is None:
            return False
        bucket, path = _split_gs(self._metrics_uri)
        try:
            text = self._storage.bucket(bucket).blob(path).download_as_text()
        except Exception:  # not written yet (before the first epoch ends), or a blip
            return False
        new = False
        for line in text.splitlines():
            try:
                row = json.loads(line)
                epoch = int(row["epoch"])
            except (ValueError, KeyError, TypeError):
                continue
            if epoch <= self._seen_epochs:
                continue
            self._seen_epochs = epoch
            new = True
            self._emit(
                "epoch",
                stage="train",
                epoch=epoch,
                metrics=row,
                progress_percent=stage_percent("train", min(1.0, epoch / self._epochs)),
            )
        return new

    def _finish_state(self, resource: Any) -> None:
        if self.state == "PIPELINE_STATE_SUCCEEDED":
            self._read_epochs()  # the last epochs, if the Trainer ended between two polls
            export = ""
            for task in resource.job_detail.task_details:
                if task.task_name.endswith("Pusher") and task.outputs:
                    pushed = task.outputs.get("pushed_model")
                    if pushed and pushed.artifacts:
                        export = pushed.artifacts[0].uri
            if export:
                self._emit("info", stage="export", metrics={"export_path": export})
            self._emit("stage", stage="done", progress_percent=100)
            return self._end(0)
        if self.state == "PIPELINE_STATE_CANCELLED":
            self.ended_cancelled = True
            return self._end(1)
        failed = [
            t
            for t in resource.job_detail.task_details
            if _state_name(t.state) == "FAILED" and _task_stage(t.task_name) is not None
        ]
        task = failed[0] if failed else None
        detail = (task.error.message if task is not None and task.error else "") or (
            resource.error.message if resource.error else ""
        )
        where = task.task_name if task is not None else (self._task or "pipeline")
        self._stage = where
        message = (
            f"Vertex AI task {where} failed: {detail or 'no error message'} "
            f"(console: {self.console_url})"
        )
        self._end(1, message)


# ── outside a quick test ────────────────────────────────────────────────────────────────


def submit_pipeline(
    template: str | Path,
    backend: VertexBackend | None = None,
    *,
    labels: dict[str, str] | None = None,
    job_id: str | None = None,
) -> Any:
    """Submit an already compiled pipeline JSON (``towerwidgets pipeline compile``)."""
    path = Path(template)
    if not path.is_file():
        raise VertexSetupError(f"The pipeline file {str(path)!r} does not exist")
    try:
        compiled = json.loads(path.read_text())
        root = (compiled.get("runtimeConfig") or {}).get("gcsOutputDirectory", "")
        if "pipelineSpec" not in compiled and "pipelineInfo" not in compiled:
            raise ValueError("it has no pipelineSpec")
    except (ValueError, AttributeError) as error:
        raise VertexSetupError(f"{str(path)!r} is not a compiled pipeline JSON: {error}") from None
    backend = backend or VertexBackend()
    if not backend.pipeline_root and str(root).startswith("gs://"):
        backend.pipeline_root = str(root).rstrip("/")  # the root it was compiled for
    backend.check()
    backend.upload_manifest(path)  # the module wheels (and data) the compiler listed
    return backend.submit_template(
        path, job_id=job_id, labels={"towerwidgets": "pipeline", **(labels or {})}
    )


def running_vertex_tests(store: Any = None) -> list[Any]:
    """Quick tests the store says are running on Vertex AI (after a kernel restart: follow
    each again with :func:`reattach_quick_test`)."""
    if store is None:
        from towerwidgets.store import Store

        store = Store()
    return [
        test
        for test in store.quick_tests.list(status="running")
        if test.backend == "vertex" and test.vertex_pipeline_id
    ]


def reattach_quick_test(
    test_id: int,
    store: Any = None,
    *,
    backend: VertexBackend | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> Any:
    """Follow a running Vertex AI quick test again (e.g. after a kernel restart).

    Returns a QuickTestHandle like ``start_quick_test``: its events, ``wait`` and ``cancel``
    work as if this kernel had started it. A finished test returns a finished handle.
    """
    from towerwidgets.runner.api import attach_quick_test

    if store is None:
        from towerwidgets.store import Store

        store = Store()
    record = store.quick_tests.get(test_id)
    if not record.is_finished and not (record.backend == "vertex" and record.vertex_pipeline_id):
        raise VertexSetupError(
            f"Quick test {test_id} has no Vertex AI job to re-attach to; only a Vertex AI run "
            "keeps running without its kernel"
        )
    backend = backend or VertexBackend()
    return attach_quick_test(
        record,
        store,
        backend,
        lambda on_event_, seen, epochs: backend.attach(
            record.vertex_pipeline_id, on_event_, epochs=epochs, seen_epochs=seen
        ),
        on_event=on_event,
    )
