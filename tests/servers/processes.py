"""Start the out-of-process test servers and stop them again.

Each ``start_*`` function returns a :class:`RunningServer` once the server accepts connections on 127.0.0.1.
The server's stdout and stderr go to a temporary file, so that a failing test can show them
(``server.output()``). Always stop a server: ``with start_...(...) as server:`` or ``server.stop()``.

- :func:`start_nassl_server`: OpenSSL 1.0.2e/1.1.1w from nassl (SSLv2, SSLv3, RC4, 3DES, EXPORT, zlib).
- :func:`start_tlslite_server`: tlslite-ng, an independent implementation (SSLv3 to TLS 1.3).
- :func:`start_openssl_s_server`: Debian's ``openssl s_server`` (OpenSSL 3), single-threaded.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import attrs
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
OPENSSL = "/usr/bin/openssl"

_READY = re.compile(rb"^READY (\d+)\s*$", re.MULTILINE)
_STARTUP_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0
_S_SERVER_GRACE_S = 0.2


class ServerStartError(RuntimeError):
    """The server process did not become ready; the message holds its output."""


@attrs.define
class RunningServer:
    """A test server in a child process, listening on ``127.0.0.1:port``."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    _log_file: IO[bytes] = attrs.field(repr=False)
    _final_output: str | None = attrs.field(default=None, repr=False)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far (also after :meth:`stop`)."""
        if self._final_output is not None:
            return self._final_output
        return _read_log(self.log_path)

    def stop(self) -> None:
        """Terminate the process, wait for it (killing it after 5 s) and remove the log file."""
        if self._final_output is not None:
            return
        _terminate(self.process)
        self._final_output = _read_log(self.log_path)
        self._log_file.close()
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _read_log(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return ""


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_TIMEOUT_S)


def _spawn(command: Sequence[str]) -> tuple[subprocess.Popen[bytes], Path, IO[bytes]]:
    log_file = tempfile.NamedTemporaryFile(prefix="tlsprobe-server-", suffix=".log", delete=False)  # noqa: SIM115
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        list(command),
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    return process, Path(log_file.name), log_file


def _discard(process: subprocess.Popen[bytes], log_path: Path, log_file: IO[bytes]) -> str:
    _terminate(process)
    output = _read_log(log_path)
    log_file.close()
    log_path.unlink(missing_ok=True)
    return output


def _start_python_server(module: str, arguments: Sequence[str]) -> RunningServer:
    """Run ``python -m module arguments`` and wait for its ``READY <port>`` line."""
    command = [sys.executable, "-m", module, *arguments]
    process, log_path, log_file = _spawn(command)
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        match = _READY.search(log_path.read_bytes())
        if match:
            return RunningServer(port=int(match[1]), process=process, log_path=log_path, log_file=log_file)
        if process.poll() is not None:
            break
        time.sleep(0.02)
    output = _discard(process, log_path, log_file)
    raise ServerStartError(f"{' '.join(command)} did not print READY (exit code {process.returncode}):\n{output}")


def start_nassl_server(
    *,
    cert: Path,
    key: Path,
    legacy: bool = True,
    version: str = "sslv23",
    ciphers: str | None = None,
    verify: str = "none",
    ca: Path | None = None,
    compression: bool = True,
    tickets: bool = True,
    server_preference: bool = False,
    extra_args: Sequence[str] = (),
) -> RunningServer:
    """Start ``tests.servers.nassl_server``; skip the test if this nassl wheel cannot become a server."""
    arguments = ["--legacy" if legacy else "--modern", "--port", "0", "--cert", str(cert), "--key", str(key)]
    arguments += ["--version", version, "--verify", verify]
    if ciphers is not None:
        arguments += ["--ciphers", ciphers]
    if ca is not None:
        arguments += ["--ca", str(ca)]
    if not compression:
        arguments.append("--no-compression")
    if not tickets:
        arguments.append("--no-tickets")
    if server_preference:
        arguments.append("--server-preference")
    try:
        return _start_python_server("tests.servers.nassl_server", [*arguments, *extra_args])
    except ServerStartError as error:
        unavailable = re.search(r"^nassl_server: (symbols missing|nassl object layout).*$", str(error), re.M)
        if unavailable:
            pytest.skip(unavailable[0])
        raise


def start_tlslite_server(
    *,
    cert: Path,
    key: Path,
    min_version: str = "tls1.0",
    max_version: str = "tls1.3",
    ciphers: Sequence[str] | None = None,
    extra_args: Sequence[str] = (),
) -> RunningServer:
    """Start ``tests.servers.tlslite_server`` (versions: ssl3, tls1.0 ... tls1.3; tlslite cipher names)."""
    pytest.importorskip("tlslite", reason="tlslite-ng is not installed")
    arguments = [
        "--port",
        "0",
        "--cert",
        str(cert),
        "--key",
        str(key),
        "--min",
        min_version,
        "--max",
        max_version,
    ]
    if ciphers:
        arguments += ["--ciphers", ",".join(ciphers)]
    return _start_python_server("tests.servers.tlslite_server", [*arguments, *extra_args])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_tcp(port: int, process: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def _start_on_free_port(name: str, command_for_port: Callable[[int], list[str]], attempts: int) -> RunningServer:
    """Start a server binary that cannot report the port it bound: pick a free port first (bind port 0, close,
    reuse) and retry on "Address already in use" (another process grabbed it meanwhile), up to ``attempts`` times.
    Readiness is a successful TCP connect and the process still alive a moment later (a binary whose bind
    failed may exit with status 0 right after, while our connect reached whoever took the port)."""
    output = ""
    for _attempt in range(attempts):
        port = _free_port()
        process, log_path, log_file = _spawn(command_for_port(port))
        if _wait_for_tcp(port, process, time.monotonic() + _STARTUP_TIMEOUT_S):
            time.sleep(_S_SERVER_GRACE_S)
            if process.poll() is None:
                return RunningServer(port=port, process=process, log_path=log_path, log_file=log_file)
        output = _discard(process, log_path, log_file)
        if "already in use" not in output.lower():
            break
    raise ServerStartError(f"{name} did not start:\n{output}")


def start_openssl_s_server(args: Sequence[str], cert: Path, key: Path, *, attempts: int = 5) -> RunningServer:
    """Start ``openssl s_server -www -quiet`` on 127.0.0.1 with extra ``args``; skip if openssl is missing.

    s_server is single-threaded: connect to it one at a time.
    """
    if not (Path(OPENSSL).exists() or shutil.which("openssl")):
        pytest.skip("no openssl binary")
    executable = OPENSSL if Path(OPENSSL).exists() else "openssl"

    def command(port: int) -> list[str]:
        return [executable, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert), "-key", str(key),
                "-www", "-quiet", *args]  # fmt: skip

    return _start_on_free_port(f"openssl s_server {' '.join(args)}", command, attempts)


def start_gnutls_serv(
    priority: str, cert: Path, key: Path, *, attempts: int = 5, extra_args: Sequence[str] = ()
) -> RunningServer:
    """Start GnuTLS's ``gnutls-serv --http`` with a priority string and ``extra_args`` (e.g. ``--noticket``,
    ``--nodb``, ``--earlydata``); skip if gnutls-bin is not installed.

    gnutls-serv has no option to choose its address: it listens on every interface, and the tests only ever
    connect to it on 127.0.0.1.
    """
    executable = shutil.which("gnutls-serv")
    if executable is None:
        pytest.skip("gnutls-serv is not installed (Debian package gnutls-bin)")

    def command(port: int) -> list[str]:
        return [executable, "--http", "--port", str(port), "--x509certfile", str(cert), "--x509keyfile", str(key),
                "--priority", priority, *extra_args]  # fmt: skip

    name = " ".join(["gnutls-serv", "--priority", priority, *extra_args])
    return _start_on_free_port(name, command, attempts)


def start_nginx(directory: Path, server_block: str, *, attempts: int = 5) -> RunningServer:
    """Start nginx in the foreground with one TLS ``server`` on 127.0.0.1 whose body is ``server_block`` (its
    ``listen`` line is added); skip if nginx is not installed (Debian package nginx-light).

    Everything nginx writes (pid, logs, temp files) stays under ``directory``.
    """
    executable = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if executable is None:
        pytest.skip("nginx is not installed (Debian package nginx-light)")
    (directory / "tmp").mkdir(parents=True, exist_ok=True)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {directory / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )

    def command(port: int) -> list[str]:
        config = directory / f"nginx-{port}.conf"
        config.write_text(
            f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
            f"error_log {directory / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log off;\n{temp_paths}\n    server {{\n        listen 127.0.0.1:{port} ssl;\n"
            f"{textwrap.indent(server_block.strip(), '        ')}\n"
            "        location / { return 200 'ok'; }\n    }\n}\n"
        )
        return [executable, "-p", str(directory), "-c", str(config)]

    return _start_on_free_port("nginx", command, attempts)
