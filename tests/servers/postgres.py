"""A real PostgreSQL server for the results store's tests: one per session, a fresh database per test.

Started from the Debian package's binaries as the ``postgres`` user (PostgreSQL refuses root), with its data, its
Unix socket and its output in a temporary directory, listening on 127.0.0.1 at a free port, trusting local
connections, and with durability off (``fsync``, ``synchronous_commit``, ``full_page_writes``): the tests need a
real server's SQL and concurrency, not its crash safety. Its default collation is ICU's ``en-US`` when the build
has ICU, a locale whose order differs from code point order, so that the store's ordering is tested against one.
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import psycopg
import pytest
from psycopg import sql

from tests.servers.daemons import Daemon, DaemonStartError, _start, free_port

_INITDB_TIMEOUT_S = 60
_READY_TIMEOUT_S = 20.0


@attrs.frozen
class PostgresServer:
    """A running PostgreSQL: ``url(database)`` for SQLAlchemy and tlsprobe, ``new_database()`` per test."""

    daemon: Daemon
    """The server process, its directory and output."""

    @property
    def port(self) -> int:
        """Its TCP port on 127.0.0.1."""
        return self.daemon.port

    def url(self, database: str = "postgres") -> str:
        """``postgresql://`` URL of ``database`` as the superuser (no password: the server trusts local users)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True)

    def new_database(self) -> str:
        """Create an empty database with a fresh name; return the name."""
        name = f"tlsprobe_{uuid.uuid4().hex[:12]}"
        with self._admin() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections to it remain."""
        with self._admin() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _initdb(initdb: Path, data: Path) -> None:
    base = [str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
    attempts = ([*base, "--locale-provider=icu", "--icu-locale=en-US", "--locale=C.UTF-8"], [*base, "--locale=C"])
    for attempt, command in enumerate(attempts):
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_INITDB_TIMEOUT_S, user="postgres", check=False
        )
        if done.returncode == 0:
            return
        if attempt == len(attempts) - 1:
            raise RuntimeError(f"initdb failed: {' '.join(command)}\n{done.stdout}{done.stderr}")
        shutil.rmtree(data)  # a build without ICU: again with the C locale
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")


def start_postgres_server() -> PostgresServer:
    """Initialise a cluster in a new temporary directory and start it; skips the test when PostgreSQL is missing."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not binaries:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)")
    postgres = Path(binaries[-1])
    directory = Path(tempfile.mkdtemp(prefix="tlsprobe-store-postgres-"))
    directory.chmod(0o755)
    data, sockets = directory / "data", directory / "sockets"
    for path in (data, sockets):
        path.mkdir()
        shutil.chown(path, "postgres", "postgres")
    try:
        _initdb(postgres.parent / "initdb", data)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    port = free_port()
    command = [str(postgres), "-D", str(data), "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"]
    command += ["-c", f"unix_socket_directories={sockets}", "-c", "max_connections=100"]
    command += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to leave.
    daemon = _start("postgres", command, directory, {"postgres": port}, stop_signal=signal.SIGINT, user="postgres")
    server = PostgresServer(daemon)
    try:
        _wait_until_ready(server)
    except BaseException:
        daemon.stop()
        raise
    return server


def _wait_until_ready(server: PostgresServer) -> None:
    """PostgreSQL listens before it accepts sessions ("the database system is starting up"): wait for one."""
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while True:
        try:
            server._admin().close()
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline or server.daemon.process.poll() is not None:
                raise DaemonStartError(f"PostgreSQL accepts no session: {error}\n{server.daemon.output()}") from error
            time.sleep(0.05)
        else:
            return


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the duration of the block."""
    server = start_postgres_server()
    try:
        yield server
    finally:
        server.daemon.stop()
