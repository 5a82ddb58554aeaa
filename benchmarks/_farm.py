"""A farm of real TLS servers on 127.0.0.1: one nginx master with one ``server`` block per port.

Five configurations are cycled through so that scan results have content (several versions, key types, DHE,
weak suites, HSTS). Without nginx, Python ``ssl`` servers (``tlsprobe.testing.LocalTLSServer``) stand in, with
fewer configurations; the caller prints a warning.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tlsprobe.testing import LocalTLSServer, TestPKI

NGINX = "/usr/sbin/nginx"
_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0

# Mozilla's intermediate TLS 1.2 suites (guidelines 5.7), in their order.
_INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)
# CBC suites and static-RSA key exchange (this OpenSSL 3 build has no 3DES); OpenSSL 3 refuses TLS 1.0/1.1
# below security level 0.
_OLD_CIPHERS = (
    _INTERMEDIATE_CIPHERS + ":ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES128-SHA:AES256-SHA:@SECLEVEL=0"
)
_DHE_CIPHERS = (
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256"
)


@dataclass(frozen=True)
class ServerConfig:
    """One nginx TLS configuration: what the ``server`` block says beyond ``listen`` and ``return``."""

    name: str
    protocols: tuple[str, ...]  # nginx names: TLSv1 TLSv1.1 TLSv1.2 TLSv1.3
    certificates: tuple[str, ...]  # "rsa", "ecdsa"
    ciphers: str | None = None
    prefer_server_ciphers: bool = True
    hsts: bool = False
    dhparam: bool = False


CONFIGS: tuple[ServerConfig, ...] = (
    ServerConfig("tls13-ecdsa", ("TLSv1.3",), ("ecdsa",)),
    ServerConfig(
        "intermediate-rsa-hsts",
        ("TLSv1.2", "TLSv1.3"),
        ("rsa",),
        _INTERMEDIATE_CIPHERS,
        prefer_server_ciphers=False,
        hsts=True,
        dhparam=True,
    ),
    ServerConfig("intermediate-dual", ("TLSv1.2", "TLSv1.3"), ("rsa", "ecdsa"), _INTERMEDIATE_CIPHERS),
    ServerConfig("old-cbc-rsa-kx", ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"), ("rsa",), _OLD_CIPHERS),
    ServerConfig("tls12-ffdhe", ("TLSv1.2",), ("rsa",), _DHE_CIPHERS, prefer_server_ciphers=False, dhparam=True),
    # The widest legacy server issue 27 met: everything OpenSSL 3 has (about 56 suites under TLS 1.2, DHE
    # included) in its own order; its suite enumerations are the longest chains of the farm.
    ServerConfig("wide-legacy", ("TLSv1", "TLSv1.1", "TLSv1.2"), ("rsa",), "ALL:@SECLEVEL=0", dhparam=True),
)


@dataclass(frozen=True)
class FarmServer:
    port: int
    config: ServerConfig


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out right now; all bound at once so that they are distinct."""
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(count)]
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _ffdhe2048_dhparam(path: Path) -> None:
    # RFC 7919 ffdhe2048, so that the DHE group is a named one the scanners can recognise.
    subprocess.run(
        ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", str(path)],
        check=True,
        capture_output=True,
    )


def _server_block(server: FarmServer, pki: TestPKI, dhparam: Path) -> str:
    config = server.config
    lines = [f"listen 127.0.0.1:{server.port} ssl;", f"ssl_protocols {' '.join(config.protocols)};"]
    for kind in config.certificates:
        chain, key = (pki.rsa_chain, pki.rsa_key) if kind == "rsa" else (pki.ecdsa_chain, pki.ecdsa_key)
        lines += [f"ssl_certificate {chain};", f"ssl_certificate_key {key};"]
    if config.ciphers:
        lines.append(f'ssl_ciphers "{config.ciphers}";')
    lines.append(f"ssl_prefer_server_ciphers {'on' if config.prefer_server_ciphers else 'off'};")
    if config.dhparam:
        lines.append(f"ssl_dhparam {dhparam};")
    if config.hsts:
        lines.append('add_header Strict-Transport-Security "max-age=63072000" always;')
    lines.append('return 200 "ok\\n";')
    return "    server {\n" + "".join(f"        {line}\n" for line in lines) + "    }\n"


def nginx_conf(directory: Path, servers: Sequence[FarmServer], pki: TestPKI, dhparam: Path) -> str:
    temp_paths = "".join(
        f"    {name}_temp_path {directory / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    blocks = "".join(_server_block(server, pki, dhparam) for server in servers)
    return (
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "worker_processes 2;\n"
        "worker_rlimit_nofile 16384;\n"
        "events {\n    worker_connections 8192;\n}\n"
        "http {\n"
        "    access_log off;\n"
        "    keepalive_timeout 5s;\n"
        f"{temp_paths}"
        "    ssl_session_cache shared:bench:10m;\n"
        f"{blocks}"
        "}\n"
    )


def _wait_listening(ports: Sequence[int], process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for port in ports:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited with status {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx does not listen on port {port}") from None
                time.sleep(0.05)


@contextlib.contextmanager
def nginx_farm(count: int, pki: TestPKI, directory: Path) -> Iterator[list[FarmServer]]:
    """Run one nginx master serving ``count`` TLS servers, configurations cycled; stopped on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    dhparam = directory / "ffdhe2048.pem"
    _ffdhe2048_dhparam(dhparam)
    servers = [FarmServer(port, CONFIGS[index % len(CONFIGS)]) for index, port in enumerate(free_ports(count))]
    conf = directory / "nginx.conf"
    conf.write_text(nginx_conf(directory, servers, pki, dhparam))
    subprocess.run([NGINX, "-t", "-q", "-c", str(conf), "-p", str(directory)], check=True)
    process = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(directory), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_listening([server.port for server in servers], process, _START_TIMEOUT_S)
        yield servers
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)  # graceful: the master waits for its workers
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_PYTHON_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


@contextlib.contextmanager
def python_farm(count: int, pki: TestPKI, directory: Path) -> Iterator[list[FarmServer]]:
    """The fallback: LocalTLSServer threads with the same versions, suites and DH group (every one sends HSTS)."""
    directory.mkdir(parents=True, exist_ok=True)
    dhparam = directory / "ffdhe2048.pem"
    _ffdhe2048_dhparam(dhparam)
    with contextlib.ExitStack() as stack:
        servers = []
        for index in range(count):
            config = CONFIGS[index % len(CONFIGS)]
            kind = config.certificates[0]
            chain, key = (pki.rsa_chain, pki.rsa_key) if kind == "rsa" else (pki.ecdsa_chain, pki.ecdsa_key)
            server = stack.enter_context(
                LocalTLSServer(
                    certfile=chain,
                    keyfile=key,
                    minimum_version=_PYTHON_VERSIONS[config.protocols[0]],
                    maximum_version=_PYTHON_VERSIONS[config.protocols[-1]],
                    ciphers=config.ciphers,
                    server_preference=config.prefer_server_ciphers,
                )
            )
            if "ecdsa" in config.certificates[1:]:
                server.context.load_cert_chain(pki.ecdsa_chain, pki.ecdsa_key)
            if config.dhparam:
                server.context.load_dh_params(str(dhparam))
            servers.append(FarmServer(server.port, config))
        yield servers


def farm(count: int, pki: TestPKI, directory: Path) -> contextlib.AbstractContextManager[list[FarmServer]]:
    """nginx when it is installed, else the Python fallback (the caller warns)."""
    if shutil.which(NGINX):
        return nginx_farm(count, pki, directory)
    return python_farm(count, pki, directory)


def _expected_handshakes(config: ServerConfig) -> list[tuple[str, str | None]]:
    """(version, client cipher string) pairs the configuration must accept: what makes it distinct."""
    pairs: list[tuple[str, str | None]] = [(config.protocols[0], None), (config.protocols[-1], None)]
    if "ecdsa" in config.certificates and "TLSv1.2" in config.protocols:
        pairs.append(("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"))
    if config.dhparam:
        pairs.append(("TLSv1.2", "DHE-RSA-AES128-GCM-SHA256"))
    if "AES128-SHA" in (config.ciphers or "").split(":"):
        pairs += [("TLSv1", "AES128-SHA:@SECLEVEL=0"), ("TLSv1.1", "ECDHE-RSA-AES256-SHA:@SECLEVEL=0")]
    return list(dict.fromkeys(pairs))


def verify_handshakes(servers: Sequence[FarmServer], pki: TestPKI) -> list[str]:
    """The handshakes that make each configuration what it claims: problems, or an empty list."""
    problems = []
    for server in servers:
        for version, ciphers in _expected_handshakes(server.config):
            try:
                _handshake(server.port, _PYTHON_VERSIONS[version], ciphers, pki)
            except (OSError, ssl.SSLError) as error:
                problems.append(f"port {server.port} ({server.config.name}) {version} {ciphers or ''}: {error}")
    return problems


def _handshake(port: int, version: ssl.TLSVersion, ciphers: str | None, pki: TestPKI) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.minimum_version = context.maximum_version = version
    if ciphers:
        context.set_ciphers(ciphers)
    elif version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5.0) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = tls.recv(4096)
        if not reply.startswith(b"HTTP/1.1 200"):
            raise OSError(f"unexpected HTTP reply {reply[:40]!r}")
