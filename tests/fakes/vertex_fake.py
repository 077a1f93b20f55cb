"""A small fake of the Vertex AI Pipelines REST API, on 127.0.0.1, for the real SDK.

It implements what ``aiplatform.PipelineJob`` calls with ``api_transport="rest"``:
``POST /v1/projects/{p}/locations/{l}/pipelineJobs``, ``GET /v1/{name}`` and
``POST /v1/{name}:cancel``. Each job plays a scripted progression: every GET of the job
answers the next step (the last step repeats), so tests are deterministic without clocks.
A step may also write the Trainer's ``metrics.jsonl`` to the storage emulator (as the
generated module does after every epoch), answer with an HTTP error, or answer slowly.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

PROJECT_NUMBER = "123456789"
TASKS = ("CsvExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer", "Pusher")
TASK_IDS = {name: str(-8_000_000_000 - i) for i, name in enumerate(TASKS)}  # Vertex-like ids


@dataclass
class Step:
    """What one GET of a job answers."""

    state: str = "PIPELINE_STATE_RUNNING"
    tasks: dict[str, str] = field(default_factory=dict)  # task name -> task state
    epochs: int = 0  # write metrics.jsonl with this many epoch rows before answering
    task_error: tuple[str, str] | None = None  # (task name, message)
    job_error: str = ""
    http_status: int = 0  # answer this HTTP error instead (the job does not advance)
    delay: float = 0.0  # seconds to wait before answering
    hold: bool = False  # repeat this step until the job is cancelled


SPEC_FIXTURE = Path(__file__).with_name("pipeline_spec.json")


class FakeCompiler:
    """Stands in for ``towerwidgets.pipeline.compile_pipeline`` (same signature): writes a
    small PipelineSpec of the shape KubeflowV2DagRunner emits, and records each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self,
        feature_config: Any,
        model_config: Any,
        data: Any,
        *,
        output: Any,
        pipeline_root: str,
        pipeline_name: str | None = None,
        **options: Any,
    ) -> Path:
        self.calls.append(
            {
                "feature_config": feature_config,
                "model_config": model_config,
                "data": data,
                "output": output,
                "pipeline_root": pipeline_root,
                "pipeline_name": pipeline_name,
                **options,
            }
        )
        spec = json.loads(SPEC_FIXTURE.read_text())
        spec["pipelineSpec"]["pipelineInfo"]["name"] = pipeline_name or "towerwidgets"
        spec["runtimeConfig"]["gcsOutputDirectory"] = pipeline_root
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(spec, indent=2))
        # Like the real compiler: what must be on GCS before submitting (the module wheel;
        # a local data file's split) goes into <output>.uploads.json.
        root = pipeline_root.rstrip("/")
        wheel = path.parent / "tfx_user_code_Trainer-0.0+fake-py3-none-any.whl"
        wheel.write_bytes(b"PK fake wheel")
        uploads = [{"local": str(wheel), "remote": f"{root}/_wheels/{wheel.name}"}]
        if isinstance(data, str | Path) and not str(data).startswith(("gs://", "bq://")):
            import pandas as pd

            frame = pd.read_parquet(data)
            for part, rows in (
                ("train", frame.iloc[: len(frame) * 4 // 5]),
                ("eval", frame.iloc[len(frame) * 4 // 5 :]),
            ):
                local = path.parent / f"{part}.csv"
                rows.to_csv(local, index=False)
                uploads.append({"local": str(local), "remote": f"{root}/data/fake/{part}/data.csv"})
        path.with_name(path.name + ".uploads.json").write_text(json.dumps(uploads))
        return path


def tasks_up_to(name: str, state: str = "RUNNING") -> dict[str, str]:
    """Every task before ``name`` succeeded, ``name`` in ``state``."""
    index = TASKS.index(name)
    return {**{t: "SUCCEEDED" for t in TASKS[:index]}, name: state}


def success_script(epochs: int = 3) -> list[Step]:
    """queued → ExampleGen … Transform → Trainer epoch by epoch → Pusher → succeeded."""
    steps = [Step("PIPELINE_STATE_QUEUED"), Step("PIPELINE_STATE_PENDING")]
    steps += [Step(tasks=tasks_up_to(name)) for name in TASKS[:4]]
    steps += [Step(tasks=tasks_up_to("Trainer"), epochs=n) for n in range(epochs + 1)]
    steps += [Step(tasks=tasks_up_to("Pusher"), epochs=epochs)]
    steps += [Step("PIPELINE_STATE_SUCCEEDED", tasks=dict.fromkeys(TASKS, "SUCCEEDED"))]
    return steps


def failing_transform_script(message: str) -> list[Step]:
    return [
        Step("PIPELINE_STATE_PENDING"),
        Step(tasks=tasks_up_to("SchemaGen")),
        Step(tasks=tasks_up_to("Transform")),
        Step(
            "PIPELINE_STATE_FAILED",
            tasks=tasks_up_to("Transform", "FAILED"),
            task_error=("Transform", message),
            job_error="The DAG failed because some tasks failed. The failed tasks are: [Transform].",
        ),
    ]


@dataclass
class FakeJob:
    name: str
    body: dict[str, Any]
    script: list[Step]
    gets: int = 0
    cancelled: bool = False
    released: bool = False
    cancel_gets: int = 0
    last: dict[str, Any] = field(default_factory=dict)


class VertexFake:
    """The fake server. ``scripts`` is consumed one per created job (else a success)."""

    def __init__(self, storage_client: Any = None):
        self.storage_client = storage_client
        self.jobs: dict[str, FakeJob] = {}
        self.created: list[dict[str, Any]] = []  # request bodies, with the query
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.authorization: list[str] = []  # the Authorization header of each API call
        self.scripts: list[list[Step]] = []
        # Vertex lists a running task's output artifacts (else only once it ended)
        self.outputs_while_running = True
        self.refuse_create: tuple[int, str] | None = None  # answer creates with this error
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def do_POST(self) -> None:
                url = urlparse(self.path)
                fake.requests.append(("POST", url.path))
                if url.path != "/token":
                    fake.authorization.append(self.headers.get("Authorization") or "")
                created = re.fullmatch(
                    r"/v1/projects/([^/]+)/locations/([^/]+)/pipelineJobs", url.path
                )
                if created:
                    status, payload = fake.create(
                        created.group(1), created.group(2), self._body(), parse_qs(url.query)
                    )
                    return self._send(status, payload)
                if url.path == "/token":  # OAuth token endpoint of an ADC file in tests
                    return self._send(200, {"access_token": "fake-token", "expires_in": 3600})
                if url.path.endswith(":cancel"):
                    name = url.path[len("/v1/") : -len(":cancel")]
                    status, payload = fake.cancel(name)
                    return self._send(status, payload)
                self._send(404, _error(404, f"no route {url.path}"))

            def do_GET(self) -> None:
                url = urlparse(self.path)
                fake.requests.append(("GET", url.path))
                fake.authorization.append(self.headers.get("Authorization") or "")
                step, payload = fake.get(url.path[len("/v1/") :])
                if step is not None and step.delay:
                    time.sleep(step.delay)
                if step is not None and step.http_status:
                    return self._send(step.http_status, _error(step.http_status, "try again"))
                self._send(200 if payload.get("name") else 404, payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> VertexFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ── the API ─────────────────────────────────────────────────────────────────────────

    def create(
        self, project: str, location: str, body: dict[str, Any], query: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        job_id = (query.get("pipelineJobId") or ["job-1"])[0]
        if self.refuse_create:
            code, message = self.refuse_create
            return code, _error(code, message)
        # Vertex answers with the project *number* in the resource name.
        name = f"projects/{PROJECT_NUMBER}/locations/{location}/pipelineJobs/{job_id}"
        with self.lock:
            self.created.append({**body, "_project": project, "_job_id": job_id})
            script = self.scripts.pop(0) if self.scripts else success_script()
            job = FakeJob(name=name, body=body, script=script)
            self.jobs[name] = job
            resource = self._resource(job, Step("PIPELINE_STATE_QUEUED"))
        return 200, resource

    def get(self, name: str) -> tuple[Step | None, dict[str, Any]]:
        with self.lock:
            job = self.jobs.get(name)
            if job is None:
                return None, _error(404, f"PipelineJob {name} not found")
            if job.cancelled:
                job.cancel_gets += 1
                state = (
                    "PIPELINE_STATE_CANCELLING"
                    if job.cancel_gets < 2
                    else "PIPELINE_STATE_CANCELLED"
                )
                last = job.script[min(job.gets, len(job.script) - 1)]
                tasks = {
                    t: ("CANCELLED" if s == "RUNNING" and job.cancel_gets >= 2 else s)
                    for t, s in last.tasks.items()
                }
                return None, self._resource(job, Step(state, tasks=tasks))
            step = job.script[min(job.gets, len(job.script) - 1)]
            if step.http_status:
                job.gets += 1  # the next GET answers the next step
                return step, {}
            if not step.hold or job.released:
                job.released = False
                job.gets += 1
        if step.epochs:
            self.write_metrics(job, step.epochs)
        return step, self._resource(job, step)

    def cancel(self, name: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            job = self.jobs.get(name)
            if job is None:
                return 404, _error(404, f"PipelineJob {name} not found")
            job.cancelled = True
        return 200, {}

    def release(self) -> None:
        """Let every job holding at a ``hold`` step go on to the next step."""
        with self.lock:
            for job in self.jobs.values():
                job.released = True

    # ── helpers ─────────────────────────────────────────────────────────────────────────

    def root(self, job: FakeJob) -> str:
        root = job.body.get("runtimeConfig", {}).get("gcsOutputDirectory", "gs://missing")
        return f"{root.rstrip('/')}/{PROJECT_NUMBER}/{job.name.rsplit('/', 1)[-1]}"

    def model_run_uri(self, job: FakeJob) -> str:
        return f"{self.root(job)}/Trainer_{TASK_IDS['Trainer']}/model_run"

    def write_metrics(self, job: FakeJob, epochs: int) -> None:
        """What the generated trainer module does after every epoch: rewrite the file."""
        rows = [
            {
                "epoch": n,
                "loss": round(1.0 / n, 4),
                "val_loss": round(1.1 / n, 4),
                "recall_at_10": round(0.05 * n, 4),
                "recall_at_100": round(0.2 * n, 4),
            }
            for n in range(1, epochs + 1)
        ]
        bucket, _, path = self.model_run_uri(job)[len("gs://") :].partition("/")
        blob = self.storage_client.bucket(bucket).blob(f"{path}/metrics.jsonl")
        blob.upload_from_string("".join(json.dumps(r) + "\n" for r in rows))

    def _resource(self, job: FakeJob, step: Step) -> dict[str, Any]:
        resource = copy.deepcopy(job.body)
        resource.update(name=job.name, state=step.state, createTime="2026-12-01T06:00:00Z")
        details = []
        for index, (task, state) in enumerate(step.tasks.items()):
            detail: dict[str, Any] = {
                "taskId": TASK_IDS.get(task, str(index + 1)),
                "taskName": task,
                "state": state,
                "parentTaskId": "0",
            }
            if task == "Trainer" and (self.outputs_while_running or state != "RUNNING"):
                detail["outputs"] = {"model_run": {"artifacts": [{"uri": self.model_run_uri(job)}]}}
            if step.task_error and step.task_error[0] == task:
                detail["error"] = {"code": 9, "message": step.task_error[1]}
            details.append(detail)
        root_task = {"taskId": "0", "taskName": "towerwidgets-root", "state": "RUNNING"}
        resource["jobDetail"] = {"taskDetails": [root_task, *details]}
        if step.job_error:
            resource["error"] = {"code": 9, "message": step.job_error}
        job.last = resource
        return resource


def _error(code: int, message: str) -> dict[str, Any]:
    status = {403: "PERMISSION_DENIED", 404: "NOT_FOUND", 503: "UNAVAILABLE", 500: "INTERNAL"}
    status = status.get(code, "UNKNOWN")
    return {"error": {"code": code, "message": message, "status": status}}
