"""``tlsprobe demo``: start a few real TLS servers on loopback, in this process, and scan them. Works offline."""

from __future__ import annotations

import argparse
import contextlib
import socket
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tlsprobe._cli._concerns import FailureGate
from tlsprobe._cli._errors import InputError, say
from tlsprobe._cli._exit import EXIT_FAILED, EXIT_OK
from tlsprobe._cli._options import (
    UsageParser,
    add_check_options,
    add_output_options,
    build_parser,
    scan_config,
    selected_checks,
)
from tlsprobe._cli._scan_command import ScanInputs, scan
from tlsprobe._cli._targets import Targets
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import ServerTarget
from tlsprobe.testing import LocalTLSServer, TestPKI, generate_test_pki

_DESCRIPTION = """\
Start a few real TLS servers on 127.0.0.1, in this process (a modern one, a legacy one, an ECDSA one, one that
requires a client certificate, and a port where nothing listens), and scan them: what a report looks like, offline.
The demo's certificates come from a throw-away CA that the scan trusts (--ca-file is set to it).

Its servers fail on purpose: the exit status is 0 unless the demo itself could not run."""


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


def build_demo_parser() -> argparse.ArgumentParser:
    """``tlsprobe demo``'s own options: which checks, and the output ones."""
    parser = UsageParser(
        prog="tlsprobe demo", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_check_options(parser)
    add_output_options(parser)
    return parser


def run_demo(arguments: Sequence[str]) -> int:
    """Run the demo; output options (``--json-out``, ``--jsonl``, ``--quiet``...) work as for a scan."""
    parser = build_demo_parser()
    given = parser.parse_args(list(arguments))
    options = argparse.Namespace(**{**vars(build_parser().parse_args([])), **vars(given)})
    with tempfile.TemporaryDirectory(prefix="tlsprobe-demo-") as directory, contextlib.ExitStack() as stack:
        pki = generate_test_pki(Path(directory))
        if options.ca_file is None:
            options.ca_file = str(pki.ca_cert)  # the demo's own CA: its servers' certificates are trusted
        labels: dict[ServerTarget, str] = {}
        for label, server in _demo_servers(pki):
            stack.enter_context(server)
            labels[ServerTarget(host="127.0.0.1", port=server.port)] = label
        labels[ServerTarget(host="127.0.0.1", port=_closed_port())] = "nothing listens here"
        try:
            config = scan_config(options)
            gate = FailureGate.from_options(options.fail_on, options.fail_under, with_policy=False)
            checks = selected_checks(options)
        except (ConfigurationError, InputError) as error:
            parser.error(str(error))
        targets = Targets(from_arguments=list(labels), source=None, adjust=lambda target: target, total=len(labels))
        inputs = ScanInputs(config=config, checks=checks, gate=gate, targets=targets)

        def announce() -> None:
            say(f"demo: scanning {len(labels)} servers started on 127.0.0.1")

        code = scan(inputs, options, labels=labels, before=announce)
    return EXIT_OK if code == EXIT_FAILED else code
