"""Command-line options, with one flag per check built from the check registry."""

from __future__ import annotations

import argparse
from typing import Any

import attrs

from tlsprobe._config import Limits, ScanConfig, Timeouts
from tlsprobe._exceptions import ConfigurationError
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.checks.certificate import CertificateCheck
from tlsprobe.checks.cipher_suites import CipherSuitesCheck, EnumerationMode

EXIT_OK = 0
EXIT_CONCERN = 1
EXIT_USAGE = 2

_EPILOG = """\
exit codes:
  0  every server was scanned and nothing of concern was found
  1  a finding of concern: a deprecated protocol version or weak cipher suite is accepted, a certificate is
     untrusted, expired or for another name, a known vulnerability, or a server or check could not be
     scanned (a scan that did not happen never passes)
  2  usage or input error: bad option, invalid target or targets-file line (valid targets are still scanned)

Run `tlsprobe demo` to scan a few TLS servers that tlsprobe starts on this machine.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tlsprobe",
        description="Scan TLS/SSL servers: protocol versions, cipher suites, key exchange, client authentication.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="host, host:port, [ipv6]:port, host:port{ip}")
    parser.add_argument("--targets-in", metavar="FILE", help="read targets from FILE, one per line (# comments)")
    checks = parser.add_argument_group("checks (all of them when none is given)")
    for check in DEFAULT_CHECKS:
        checks.add_argument(f"--{check.name}", action="store_true", help=_check_help(check))
    checks.add_argument(
        "--exhaustive",
        action="store_true",
        help="enumerate cipher suites with one connection per suite (slow; for cross-checking)",
    )
    checks.add_argument(
        "--ca-file",
        metavar="FILE",
        help="PEM (or DER) CA certificates to trust besides the Mozilla and system stores (certificate check)",
    )
    network = parser.add_argument_group("network")
    defaults_limits, default_timeouts = Limits(), Timeouts()
    network.add_argument(
        "--max-connections-per-server",
        type=int,
        default=defaults_limits.max_connections_per_server,
        metavar="N",
        help="connections open at once to one server (default: %(default)s)",
    )
    network.add_argument(
        "--max-concurrent-servers",
        type=int,
        default=defaults_limits.max_concurrent_servers,
        metavar="N",
        help="servers scanned at once (default: %(default)s)",
    )
    network.add_argument(
        "--connect-timeout",
        type=float,
        default=default_timeouts.connect_s,
        metavar="SECONDS",
        help="DNS and TCP connect timeout (default: %(default)s)",
    )
    network.add_argument(
        "--read-timeout",
        type=float,
        default=default_timeouts.read_s,
        metavar="SECONDS",
        help="wait for one answer from a server (default: %(default)s)",
    )
    network.add_argument(
        "--retries",
        type=int,
        default=defaults_limits.max_retries,
        metavar="N",
        help="retries of a probe that was refused, reset or timed out (default: %(default)s)",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--json-out", metavar="FILE", help="write the JSON document to FILE ('-' for stdout)")
    output.add_argument(
        "--jsonl",
        action="store_true",
        help="JSON Lines: one server per line as it finishes (stdout by default)",
    )
    output.add_argument("--json-schema", action="store_true", help="print the JSON Schema of the output and exit")
    output.add_argument("--quiet", action="store_true", help="no terminal report")
    return parser


def _check_help(check: Check[Any]) -> str:
    if isinstance(check, CipherSuitesCheck):
        return f"cipher suites accepted with {check.version.label}"
    return (type(check).__doc__ or check.name).strip().splitlines()[0]


def selected_checks(options: argparse.Namespace) -> tuple[Check[Any], ...]:
    """The checks the options ask for, with their options; ``ConfigurationError`` for an unreadable CA file."""
    chosen = [check for check in DEFAULT_CHECKS if getattr(options, check.name)] or list(DEFAULT_CHECKS)
    if options.exhaustive:
        chosen = [
            attrs.evolve(check, mode=EnumerationMode.EXHAUSTIVE) if isinstance(check, CipherSuitesCheck) else check
            for check in chosen
        ]
    if options.ca_file is not None:
        chosen = [CertificateCheck(ca_file=options.ca_file) if isinstance(check, CertificateCheck) else check
                  for check in chosen]  # fmt: skip
    return tuple(chosen)


def scan_config(options: argparse.Namespace) -> ScanConfig:
    """The configuration the options describe; ``ConfigurationError`` names a bad value."""
    try:
        return ScanConfig(
            timeouts=Timeouts(connect_s=options.connect_timeout, read_s=options.read_timeout),
            limits=Limits(
                max_connections_per_server=options.max_connections_per_server,
                max_concurrent_servers=options.max_concurrent_servers,
                max_retries=options.retries,
            ),
        )
    except (ConfigurationError, ValueError) as error:
        raise ConfigurationError(f"invalid option: {error}") from None
