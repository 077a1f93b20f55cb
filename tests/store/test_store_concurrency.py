"""Two processes writing at once lose nothing: every write is one transaction."""

from __future__ import annotations

import multiprocessing as mp

from towerwidgets import ModelConfig, Store

PER_PROCESS = 200


def writer(path: str, tag: str) -> None:
    store = Store(path, recover=False)
    for i in range(PER_PROCESS):
        config = ModelConfig.from_preset("minimal", name=f"{tag}-{i}")
        store.model_configs.create(config)
        if i % 20 == 0:
            config.description = "updated"
            store.model_configs.update(config)
    store.close()


def test_two_processes_writing_200_configs_each_lose_nothing(tmp_path):
    path = str(tmp_path / "busy.db")
    Store(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=writer, args=(path, tag)) for tag in ("a", "b")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=240)
    assert [proc.exitcode for proc in procs] == [0, 0]
    with Store(path) as store:
        names = {config.name for config in store.model_configs.list()}
    assert names == {f"{tag}-{i}" for tag in ("a", "b") for i in range(PER_PROCESS)}
