"""``tlsprobe demo``: start a few real TLS servers on loopback, in this process, and scan them. Works offline."""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

import anyio

from tlsprobe._cli._options import EXIT_OK, build_parser, scan_config, selected_checks
from tlsprobe._cli._scan import run_scan
from tlsprobe._model._config import ServerTarget
from tlsprobe.testing import LocalTLSServer, TestPKI, generate_test_pki


def _demo_servers(pki: TestPKI) -> list[tuple[str, LocalTLSServer]]:
    return [
        (
            "modern: TLS 1.2 and 1.3, RSA",
            LocalTLSServer(certfile=pki.rsa_chain, keyfile=pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_2),
        ),
        (
            "legacy: TLS 1.0 to 1.2, every suite the system OpenSSL has",
            LocalTLSServer(
                certfile=pki.rsa_chain,
                keyfile=pki.rsa_key,
                minimum_version=ssl.TLSVersion.TLSv1,
                maximum_version=ssl.TLSVersion.TLSv1_2,
                ciphers="ALL:@SECLEVEL=0",
            ),
        ),
        (
            "ECDSA certificate, client's cipher order",
            LocalTLSServer(
                certfile=pki.ecdsa_chain,
                keyfile=pki.ecdsa_key,
                minimum_version=ssl.TLSVersion.TLSv1_2,
                server_preference=False,
            ),
        ),
        (
            "requires a client certificate",
            LocalTLSServer(
                certfile=pki.rsa_chain,
                keyfile=pki.rsa_key,
                minimum_version=ssl.TLSVersion.TLSv1_2,
                client_auth="required",
                ca_file=pki.ca_cert,
            ),
        ),
    ]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_demo(arguments: Sequence[str]) -> int:
    """Run the demo; output options (``--json-out``, ``--jsonl``, ``--quiet``...) work as for a scan."""
    options = build_parser().parse_args(list(arguments))
    with tempfile.TemporaryDirectory(prefix="tlsprobe-demo-") as directory, contextlib.ExitStack() as stack:
        pki = generate_test_pki(Path(directory))
        if options.ca_file is None:
            options.ca_file = str(pki.ca_cert)  # the demo's own CA: its servers' certificates are trusted
        labels: dict[ServerTarget, str] = {}
        for label, server in _demo_servers(pki):
            stack.enter_context(server)
            labels[ServerTarget(host="127.0.0.1", port=server.port)] = label
        labels[ServerTarget(host="127.0.0.1", port=_closed_port())] = "nothing listens here"
        print(f"tlsprobe demo: scanning {len(labels)} servers started on 127.0.0.1\n", flush=True)
        anyio.run(run_scan, iter(labels), selected_checks(options), scan_config(options), options, [], labels)
    return EXIT_OK
