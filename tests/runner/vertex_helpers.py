"""Fixtures' building blocks for the Vertex AI tests: the storage emulator, the REST fake,
and a VertexBackend pointed at both (the real SDKs, mocked only at the network)."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.vertex_fake import FakeCompiler, VertexFake

PROJECT = "tw-project"
REGION = "us-central1"
BUCKET = "tw-bucket"
ROOT = f"gs://{BUCKET}/root"
SERVICE_ACCOUNT = "runner@tw-project.iam.gserviceaccount.com"
NETWORK = "projects/123456789/global/networks/tw-vpc"


def start_storage_emulator():
    """gcp-storage-emulator on 127.0.0.1 (a free port), with the test bucket."""
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True, default_bucket=BUCKET)
    server.start()
    return server, f"http://127.0.0.1:{server._api._httpd.server_port}"


def init_sdk(endpoint: str) -> None:
    """Point the real google-cloud-aiplatform at the fake (REST over plain http)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    aiplatform.init(
        project=PROJECT,
        location=REGION,
        api_endpoint=endpoint,
        api_transport="rest",
        credentials=AnonymousCredentials(),
    )


def reset_sdk() -> None:
    from google.cloud.aiplatform import initializer

    initializer.global_config.__init__()


class Sleeps(list):
    """An injected sleep: records each requested delay, waits a few milliseconds, and
    moves its own clock (``sleeps.clock``) by the delay asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds
        time.sleep(0.003)

    def clock(self) -> float:
        return self.now


def make_backend(**options):
    from google.auth.credentials import AnonymousCredentials

    from towerwidgets.runner.vertex import PollPolicy, VertexBackend, VertexSettings

    options.setdefault("project", PROJECT)
    options.setdefault("region", REGION)
    options.setdefault("pipeline_root", ROOT)
    options.setdefault("machine", "n1-standard-8")
    options.setdefault("service_account", SERVICE_ACCOUNT)
    options.setdefault("network", NETWORK)
    options.setdefault("credentials", AnonymousCredentials())
    options.setdefault("compile", FakeCompiler())
    options.setdefault("sleep", Sleeps())
    options.setdefault("clock", options["sleep"].clock)
    options.setdefault("rng", random.Random(0))
    options.setdefault("poll", PollPolicy(request_timeout=10))
    options.setdefault("settings", VertexSettings())  # never the developer's own settings
    return VertexBackend(**options)


__all__ = [
    "BUCKET",
    "NETWORK",
    "PROJECT",
    "REGION",
    "ROOT",
    "SERVICE_ACCOUNT",
    "FakeCompiler",
    "Sleeps",
    "VertexFake",
    "init_sdk",
    "make_backend",
    "reset_sdk",
    "start_storage_emulator",
]
