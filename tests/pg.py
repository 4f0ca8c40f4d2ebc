"""A throwaway PostgreSQL cluster for the test session, in a temporary folder.

Uses the machine's PostgreSQL server binaries. PostgreSQL refuses to run as root, so
under root the cluster runs as the ``postgres`` user. Databases inside it are made and
dropped by pytest-postgresql's DatabaseJanitor.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    version: str
    base: str

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"


def find_bindir() -> str | None:
    explicit = os.environ.get("NAPO_PG_BINDIR")
    if explicit:
        return explicit
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for bindir in reversed(candidates):
        if os.path.exists(os.path.join(bindir, "pg_ctl")):
            return bindir
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(bindir: str) -> PostgresServer:
    version = bindir.rstrip("/").split("/")[-2]
    base = tempfile.mkdtemp(prefix="napo-pg-")
    run_as: list[str] = []
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    datadir = os.path.join(base, "data")
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run(run_as + list(args), check=True, capture_output=True, text=True)

    try:
        run(os.path.join(bindir, "initdb"), "-D", datadir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        run(
            os.path.join(bindir, "pg_ctl"),
            "-D",
            datadir,
            "-o",
            options,
            "-l",
            os.path.join(base, "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
    except subprocess.CalledProcessError as error:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {error.stderr or error.stdout}") from error
    return PostgresServer(host="127.0.0.1", port=port, user="postgres", version=version, base=base)


def stop(server: PostgresServer, bindir: str) -> None:
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        run_as
        + [os.path.join(bindir, "pg_ctl"), "-D", os.path.join(server.base, "data"), "-m", "immediate", "-w", "stop"],
        capture_output=True,
    )
    shutil.rmtree(server.base, ignore_errors=True)
