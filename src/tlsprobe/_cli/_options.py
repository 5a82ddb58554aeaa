"""Command-line options, with one flag per check built from the check registry."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import attrs

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import (
    STARTTLS_PORTS,
    ClientCredentials,
    HttpProxy,
    Limits,
    ScanConfig,
    ServerTarget,
    StartTLS,
    Timeouts,
)
from tlsprobe._net._identity import load_client_identity
from tlsprobe._version import __version__
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.checks.certificate import CertificateCheck
from tlsprobe.checks.cipher_suites import CipherSuitesCheck, EnumerationMode
from tlsprobe.checks.session_resumption import ATTEMPTS_ALLOWED, SessionResumptionCheck
from tlsprobe.policy import MOZILLA_PROFILES, load_policy, mozilla_profile

EXIT_OK = 0
EXIT_CONCERN = 1
EXIT_USAGE = 2

_EPILOG = """\
exit codes:
  0  every server was scanned and nothing of concern was found (with --mozilla or --policy: every server
     passes the policy)
  1  a finding of concern: a deprecated protocol version or weak cipher suite is accepted, a certificate is
     untrusted, expired or for another name, a known vulnerability (with a policy: a deviation from it, or a
     rule that could not be evaluated), or a server or check could not be scanned (a scan that did not
     happen never passes)
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
    parser.add_argument("--version", action="version", version=f"tlsprobe {__version__}")
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
        "--resumption-attempts",
        type=int,
        metavar="N",
        help="session resumptions to try each way, one full handshake each (default: 2; SSLyze makes 5)",
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
        help="connections open at once to one server (IP address and port, however the targets name it), at "
        "most: fewer while it refuses, resets or times out (default: %(default)s)",
    )
    network.add_argument(
        "--max-connections-per-ip",
        type=int,
        default=defaults_limits.max_connections_per_ip,
        metavar="N",
        help="connections open at once to one IP address across its ports (default: %(default)s)",
    )
    network.add_argument(
        "--max-concurrent-servers",
        type=int,
        default=defaults_limits.max_concurrent_servers,
        metavar="N",
        help="servers scanned at once (default: %(default)s)",
    )
    network.add_argument(
        "--max-open-connections",
        type=int,
        default=defaults_limits.max_open_connections,
        metavar="N",
        help="connections open at once for the whole scan, within the open-files limit (default: %(default)s)",
    )
    network.add_argument(
        "--max-threads",
        type=int,
        default=defaults_limits.max_threads,
        metavar="N",
        help="worker threads for full handshakes, for the whole scan (default: %(default)s)",
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
        "--exchange-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="the longest one connection's whole exchange may take, however slowly the server drips its bytes "
        "(default: the connect timeout plus twice the read timeout)",
    )
    network.add_argument(
        "--retries",
        type=int,
        default=defaults_limits.max_retries,
        metavar="N",
        help="retries of a probe that was refused, reset or timed out (default: %(default)s)",
    )
    network.add_argument(
        "--delay-ms",
        type=float,
        default=defaults_limits.min_connection_interval_s * 1000,
        metavar="MS",
        help="at least this long between two connections to one server, for servers that rate-limit "
        "(default: %(default)g)",
    )
    _add_connection_options(parser)
    judging = parser.add_argument_group("policy (the verdict decides the exit code)")
    chosen_policy = judging.add_mutually_exclusive_group()
    chosen_policy.add_argument(
        "--mozilla",
        choices=MOZILLA_PROFILES,
        metavar="PROFILE",
        help=f"judge against Mozilla's server-side TLS profile: {', '.join(MOZILLA_PROFILES)}",
    )
    chosen_policy.add_argument("--policy", metavar="FILE", help="judge against a policy in tlsprobe's JSON format")
    output = parser.add_argument_group("output")
    output.add_argument("--json-out", metavar="FILE", help="write the JSON document to FILE ('-' for stdout)")
    output.add_argument(
        "--jsonl",
        action="store_true",
        help="JSON Lines: one server per line as it finishes (stdout by default)",
    )
    output.add_argument("--json-schema", action="store_true", help="print the JSON Schema of the output and exit")
    output.add_argument("--quiet", action="store_true", help="no terminal report")
    output.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (shown on a terminal when scanning more than one server)",
    )
    return parser


def _check_help(check: Check[Any]) -> str:
    if isinstance(check, CipherSuitesCheck):
        return f"cipher suites accepted with {check.version.label}"
    return (type(check).__doc__ or check.name).strip().splitlines()[0]


def selected_checks(options: argparse.Namespace) -> tuple[Check[Any], ...]:
    """The checks the options ask for, with their options; ``ConfigurationError`` for an unreadable CA file or an
    out-of-range number of resumption attempts."""
    chosen = [check for check in DEFAULT_CHECKS if getattr(options, check.name)] or list(DEFAULT_CHECKS)
    if options.exhaustive:
        chosen = [
            attrs.evolve(check, mode=EnumerationMode.EXHAUSTIVE) if isinstance(check, CipherSuitesCheck) else check
            for check in chosen
        ]
    if options.resumption_attempts is not None:
        try:
            resumption = SessionResumptionCheck(attempts=options.resumption_attempts)
        except ValueError:
            raise ConfigurationError(
                f"--resumption-attempts must be between {ATTEMPTS_ALLOWED[0]} and {ATTEMPTS_ALLOWED[-1]}"
            ) from None
        chosen = [resumption if isinstance(check, SessionResumptionCheck) else check for check in chosen]
    if options.ca_file is not None:
        chosen = [CertificateCheck(ca_file=options.ca_file) if isinstance(check, CertificateCheck) else check
                  for check in chosen]  # fmt: skip
    return tuple(chosen)


def _timeouts(options: argparse.Namespace) -> Timeouts:
    timeouts = Timeouts(connect_s=options.connect_timeout, read_s=options.read_timeout)
    if options.exchange_timeout is None:
        return timeouts
    return attrs.evolve(timeouts, exchange_s=options.exchange_timeout)


def scan_config(options: argparse.Namespace) -> ScanConfig:
    """The configuration the options describe; ``ConfigurationError`` names a bad value."""
    policy = (
        mozilla_profile(options.mozilla) if options.mozilla else load_policy(options.policy) if options.policy else None
    )
    try:
        return ScanConfig(
            policy=policy,
            timeouts=_timeouts(options),
            limits=Limits(
                max_connections_per_server=options.max_connections_per_server,
                max_connections_per_ip=options.max_connections_per_ip,
                max_concurrent_servers=options.max_concurrent_servers,
                max_open_connections=options.max_open_connections,
                max_threads=options.max_threads,
                max_retries=options.retries,
                min_connection_interval_s=options.delay_ms / 1000,
            ),
            **_connection_config(options),
        )
    except (ConfigurationError, ValueError) as error:
        raise ConfigurationError(f"invalid option: {error}") from None


_STARTTLS_HELP = ", ".join(f"{port} {protocol.value}" for port, protocol in sorted(STARTTLS_PORTS.items()))


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    connection = parser.add_argument_group("connection")
    connection.add_argument(
        "--starttls",
        choices=[protocol.value for protocol in StartTLS],
        default=StartTLS.NONE.value,
        metavar="PROTOCOL",
        help="upgrade each connection with STARTTLS first, for targets that do not name a protocol (smtp://...): "
        f"{', '.join(protocol.value for protocol in StartTLS)}; 'auto' picks by port ({_STARTTLS_HELP})",
    )
    connection.add_argument("--xmpp-to", metavar="DOMAIN", help="the XMPP domain to ask for (default: the target host)")
    connection.add_argument(
        "--smtp-ehlo-name",
        default=ScanConfig().smtp_ehlo_name,
        metavar="NAME",
        help="the name tlsprobe gives in SMTP EHLO (default: %(default)s)",
    )
    sni = connection.add_mutually_exclusive_group()
    sni.add_argument("--sni", metavar="NAME", help="send NAME as SNI instead of the target's host name")
    sni.add_argument("--no-sni", action="store_true", help="send no SNI (IP-address targets never send one)")
    connection.add_argument(
        "--all-ips",
        action="store_true",
        help="scan every IPv4 and IPv6 address a host name resolves to, each as a server of its own",
    )
    connection.add_argument(
        "--https-tunnel",
        metavar="URL",
        help="reach servers through an HTTP CONNECT proxy: http://[user:password@]host:port",
    )
    connection.add_argument(
        "--cert",
        metavar="FILE",
        help="client certificate (PEM chain, DER, or a PKCS#12 bundle holding the key too) for servers that ask",
    )
    connection.add_argument("--key", metavar="FILE", help="the client certificate's private key (PEM or DER)")
    connection.add_argument(
        "--key-password",
        metavar="PASSWORD",
        help="password of an encrypted key or PKCS#12 bundle (default: $TLSPROBE_KEY_PASSWORD)",
    )


def _connection_config(options: argparse.Namespace) -> dict[str, Any]:
    """The ``ScanConfig`` fields the connection options set; the client certificate is read now, so that a bad
    file is a usage error."""
    credentials: ClientCredentials | None = None
    if options.key is not None and options.cert is None:
        raise ConfigurationError("--key needs --cert")
    if options.cert is not None:
        password = options.key_password or os.environ.get("TLSPROBE_KEY_PASSWORD")
        credentials = ClientCredentials(certificate=options.cert, key=options.key, password=password)
        load_client_identity(credentials)
    return {
        "starttls": StartTLS(options.starttls),
        "xmpp_to": options.xmpp_to,
        "smtp_ehlo_name": options.smtp_ehlo_name,
        "all_ips": options.all_ips,
        "https_tunnel": HttpProxy.parse(options.https_tunnel) if options.https_tunnel else None,
        "client_credentials": credentials,
    }


def target_options(options: argparse.Namespace) -> Callable[[ServerTarget], ServerTarget]:
    """What ``--sni`` and ``--no-sni`` do to each target."""
    if options.sni is not None:
        sni = ServerTarget(host="localhost", sni=options.sni).sni  # validated once, for a usage error
        return lambda target: attrs.evolve(target, sni=sni, send_sni=True)
    if options.no_sni:
        return lambda target: attrs.evolve(target, sni=None, send_sni=False)
    return lambda target: target
