"""A real PostgreSQL 15 on a free port, for the shared mapping store and the Orthanc cluster tests.

It listens on 127.0.0.1 only, with trust authentication, in a directory of its
own. PostgreSQL refuses to run as root, so as root the cluster belongs to the
``postgres`` user (created by Debian's package) and every command runs as it;
the directory is made with ``mkdtemp`` under /tmp, because pytest's own
temporary directories are private to root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.orthanc_server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"
# Speed over durability: test data is thrown away, and fsync on a 2-core CI machine is slow.
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "shared_buffers=32MB")


class PostgresServer:
    """``start``/``stop``/``restart`` (same port), ``kill`` (SIGKILL); ``directory`` keeps data between runs."""

    def __init__(self, directory: Path | None = None, port: int | None = None) -> None:
        self.temporary = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="anon-consistent-pg-"))
        self.data = self.directory / "data"
        self.log_path = self.directory / "postgresql.log"
        self.port = port or free_port()
        self._as_postgres = os.geteuid() == 0
        if not (self.data / "PG_VERSION").exists():
            self._initdb()

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", SUPERUSER, "--"] if self._as_postgres else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}):\n{done.stderr}\n{self.log_tail()}")
        return done

    def _initdb(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.directory, SUPERUSER)
            if self._run("test", "-w", str(self.directory), check=False).returncode != 0:
                raise RuntimeError(
                    f"the {SUPERUSER} user cannot reach {self.directory}: a parent directory is private to root; "
                    "use a directory under /tmp"
                )
        self._run(
            str(BIN / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"
        )

    def start(self, timeout: int = 30) -> PostgresServer:
        options = " ".join(
            [f"-p {self.port}", f"-k {self.directory}", "-c listen_addresses=127.0.0.1", *(f"-c {s}" for s in SETTINGS)]
        )
        pg_ctl = str(BIN / "pg_ctl")
        self._run(
            pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.log_path), "-w", "-t", str(timeout), "start"
        )
        return self

    def stop(self) -> None:
        if self.running():
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Stop and start again on the same port: every client connection is cut."""
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)

    def running(self) -> bool:
        return self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "status", check=False).returncode == 0

    def uri(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """An empty database (created if absent); returns its URI."""
        psql = [str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-tA"]
        exists = self._run(*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'").stdout.strip()
        if not exists:
            self._run(*psql, "-c", f'CREATE DATABASE "{name}"')
        return self.uri(name)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cleanup(self) -> None:
        self.stop()
        if self.temporary:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()
