"""A throwaway PostgreSQL server for tests: Debian's ``postgresql`` binaries, a temp data
directory, 127.0.0.1 on a free port, stopped at the end. Root cannot run ``initdb``, so as
root the server runs as the ``postgres`` user (made by the package) or ``nobody``."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def binaries() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl (None: not installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> tuple[int, ...]:
    part = Path(path).parts[-3]
    return tuple(int(x) for x in part.split(".") if x.isdigit())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> tuple[list[str], str | None]:
    """The command prefix and user to run the server as (nothing to change unless root)."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            runuser = shutil.which("runuser")
            if runuser:
                return [runuser, "-u", name, "--"], name
    raise RuntimeError("running as root without runuser or a postgres/nobody user")


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Start a server; yields its SQLAlchemy URL (psycopg 3)."""
    bin_dir = binaries()
    assert bin_dir is not None
    prefix, user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="tw-pg-"))  # under /tmp: reachable by that user
    data, log = root / "data", root / "server.log"
    if user:
        info = pwd.getpwnam(user)
        os.chown(root, info.pw_uid, info.pw_gid)
    env = {**os.environ, "LC_ALL": "C.UTF-8"}

    def run(*args: str) -> None:
        out = subprocess.run([*prefix, *args], capture_output=True, text=True, env=env, cwd=root)
        if out.returncode:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {out.stderr or out.stdout}\n{tail}")

    try:
        run(
            str(bin_dir / "initdb"), "-D", str(data), "-U", "tw", "--auth=trust", "-E", "UTF8", "-N"
        )
        for attempt in range(3):  # a free port can be taken between the probe and the start
            port = _free_port()
            options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
            try:
                run(
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "120",
                    "start",
                )
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        yield f"postgresql+psycopg://tw@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(Exception):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
