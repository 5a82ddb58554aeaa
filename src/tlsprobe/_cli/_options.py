"""Command-line options, with one flag per check built from the check registry.

Flags are hyphenated (``--tls1-2-cipher-suites``); a check's name with underscores is accepted too, hidden from
``--help`` and from completion. Usage errors are one line (``UsageParser``), and numbers are checked here: a
timeout or delay that is not a finite number of sensible size would hang a scan.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn

import attrs

from tlsprobe._cli._concerns import SEVERITY_CHOICES
from tlsprobe._cli._errors import say
from tlsprobe._cli._exit import EXIT_USAGE
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._assessment import GRADES, Policy
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
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.checks.certificate import CertificateCheck
from tlsprobe.checks.cipher_suites import CipherSuitesCheck, EnumerationMode
from tlsprobe.checks.session_resumption import ATTEMPTS_ALLOWED, SessionResumptionCheck
from tlsprobe.policy import MOZILLA_PROFILES, load_policy, mozilla_profile

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

MAX_TIMEOUT_S: Final = 3600.0
"""The longest timeout accepted: an hour for one answer is already a scan that never ends."""
MAX_DELAY_MS: Final = 60_000.0
"""The longest delay between two connections to one server accepted: a minute."""
MAX_POLICY_BYTES: Final = 1 << 20
"""The largest policy file read (Mozilla's profiles are a few kilobytes)."""
SHELLS: Final = ("bash", "zsh", "fish")
"""The shells ``--completion`` writes a script for."""

_EPILOG = """\
exit codes:
  0    every server was scanned and none fails: no finding at the --fail-on severity or above
       (default: medium; with --mozilla or --policy, the policy's verdict instead), no grade below
       --fail-under
  1    a server fails: a finding at that severity (a deprecated version, a weak suite, an untrusted,
       expired or mismatched certificate, a known vulnerability), a grade below --fail-under, a policy
       not passed (or not fully evaluated), or a server or check that could not be scanned (a scan that
       did not happen never passes)
  2    usage or input error: a bad option, an invalid target or targets-file line (the valid targets
       are still scanned), no target at all, an output that cannot be written
  130  interrupted (Ctrl-C): the servers finished so far are written, the JSON document marked
       incomplete
  141  stdout was closed by its reader (| head)

other commands (each with its own --help):
  tlsprobe demo               scan a few TLS servers that tlsprobe starts on this machine
  tlsprobe monitor ...        scan a list, record it, report what got worse since the last scan
  tlsprobe diff OLD NEW       what changed between two scans (files or scans in the store)
  tlsprobe history TARGET     one server's grade, certificate and findings over past scans
  tlsprobe report SOURCE      a self-contained HTML report of a scan
"""


class UsageParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (the message, and where to look), not the usage
    block; exit status 2 through ``SystemExit``, as argparse's own."""

    def error(self, message: str) -> NoReturn:
        say(f"{message} (see {self.prog} --help)")
        raise SystemExit(EXIT_USAGE)

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        # argparse's own swallows write errors: a closed stdout (| head) must end the command as such (141).
        (file or sys.stdout).write(self.format_help())


def flag_of(name: str) -> str:
    """The flag of a check: its name, hyphenated."""
    return "--" + name.replace("_", "-")


def _finite(flag: str, *, maximum: float, unit: str) -> Callable[[str], float]:
    """An argparse type: a finite number no larger than ``maximum`` (the model checks the lower bound)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text[:40]!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number of {unit}, not {text[:40]!r}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:g} {unit}, not {text[:40]!r}")
        return value

    return parse


class _VersionAction(argparse.Action):
    """``--version``: tlsprobe's version and its libraries', looked up only when asked (they cost start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        from tlsprobe._cli._about import version_text

        sys.stdout.write(version_text())
        sys.stdout.flush()
        raise SystemExit(0)


def add_check_options(parser: argparse.ArgumentParser) -> None:
    """One flag per registered check (with the underscore spelling, hidden), and the checks' options."""
    checks = parser.add_argument_group("checks (all of them when none is given)")
    for check in DEFAULT_CHECKS:
        checks.add_argument(flag_of(check.name), dest=check.name, action="store_true", help=_check_help(check))
        if "_" in check.name:
            checks.add_argument(f"--{check.name}", dest=check.name, action="store_true", help=argparse.SUPPRESS)
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


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """How results are shown and written, and what fails the scan: the scan's and ``demo``'s."""
    output = parser.add_argument_group("output")
    output.add_argument("--json-out", metavar="FILE", help="write the JSON document to FILE ('-' for stdout)")
    output.add_argument(
        "--jsonl",
        action="store_true",
        help="JSON Lines: one server per line as it finishes (on stdout, or in the --json-out file)",
    )
    output.add_argument(
        "--store",
        metavar="LOCATION",
        help="record the scan in a results store, an SQLite file or a postgresql:// URL, for `tlsprobe diff`, "
        "`history` and `monitor`",
    )
    output.add_argument(
        "--name",
        metavar="NAME",
        help="the name of this target list in the store (default: one derived from the set of targets)",
    )
    output.add_argument(
        "--html-out",
        metavar="FILE",
        help="write a self-contained HTML report to FILE (fleet overview, then each server; opens offline)",
    )
    output.add_argument(
        "--html-title",
        metavar="TITLE",
        default="TLS scan report",
        help="the HTML report's title (default: %(default)s)",
    )
    output.add_argument("--quiet", action="store_true", help="no report and no summary")
    output.add_argument("--summary-only", action="store_true", help="no report per server: only the summary at the end")
    output.add_argument(
        "--only-problems",
        action="store_true",
        help="report only the servers that fail (see exit codes), with their findings at the --fail-on level",
    )
    output.add_argument(
        "--min-severity",
        choices=SEVERITY_CHOICES[:-1],
        metavar="LEVEL",
        help="report only the findings at LEVEL or above, and the servers that have one or could not be "
        f"scanned: {', '.join(SEVERITY_CHOICES[:-1])}",
    )
    output.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (shown on stderr when it is a terminal and more than one server is scanned)",
    )
    gate = parser.add_argument_group("what fails the scan (exit status 1)")
    gate.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        metavar="SEVERITY",
        help=f"fail for a finding of SEVERITY or worse: {', '.join(SEVERITY_CHOICES)} (default: medium; "
        "with --mozilla or --policy: none, the policy's verdict decides)",
    )
    gate.add_argument(
        "--fail-under",
        type=str.upper,
        choices=GRADES,
        metavar="GRADE",
        help=f"fail for a grade below GRADE, or no grade: {', '.join(GRADES)}",
    )


def build_parser(prog: str = "tlsprobe") -> argparse.ArgumentParser:
    """The scan's parser; a subcommand that scans may add its own options to it."""
    parser = UsageParser(
        prog=prog,
        description="Scan TLS/SSL servers: protocol versions, cipher suites, key exchange, certificates, known "
        "vulnerabilities; a grade, findings, and a verdict for CI.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="the versions of tlsprobe and of its libraries")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="host, host:port, [ipv6]:port, host:port{ip}")
    parser.add_argument(
        "--targets-in", metavar="FILE", help="read targets from FILE, one per line (# comments); '-' for stdin"
    )
    add_check_options(parser)
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
        type=_finite("--connect-timeout", maximum=MAX_TIMEOUT_S, unit="seconds"),
        default=default_timeouts.connect_s,
        metavar="SECONDS",
        help="DNS and TCP connect timeout (default: %(default)s)",
    )
    network.add_argument(
        "--read-timeout",
        type=_finite("--read-timeout", maximum=MAX_TIMEOUT_S, unit="seconds"),
        default=default_timeouts.read_s,
        metavar="SECONDS",
        help="wait for one answer from a server (default: %(default)s)",
    )
    network.add_argument(
        "--exchange-timeout",
        type=_finite("--exchange-timeout", maximum=MAX_TIMEOUT_S, unit="seconds"),
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
        type=_finite("--delay-ms", maximum=MAX_DELAY_MS, unit="milliseconds"),
        default=defaults_limits.min_connection_interval_s * 1000,
        metavar="MS",
        help="at least this long between two connections to one server, for servers that rate-limit "
        "(default: %(default)g)",
    )
    _add_connection_options(parser)
    add_policy_options(parser)
    add_output_options(parser)
    _add_scale_out_options(parser)
    machine = parser.add_argument_group("for scripts and shells")
    machine.add_argument("--json-schema", action="store_true", help="print the JSON Schema of the output and exit")
    machine.add_argument(
        "--completion", choices=SHELLS, metavar="SHELL", help=f"print a completion script: {', '.join(SHELLS)}"
    )
    return parser


def _add_scale_out_options(parser: argparse.ArgumentParser) -> None:
    scale_out = parser.add_argument_group("scale-out (needs pip install 'tlsprobe[ray]')")
    scale_out.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="scan on a Ray cluster, one worker per CPU, every name and port of an IP address on one worker (so "
        "the per-server and per-IP limits hold across the cluster): auto (the default: the cluster this machine "
        "runs or RAY_ADDRESS; write --ray after the targets, or --ray auto), HOST:PORT, ray://HOST:PORT, or "
        "local[:N] to start one here with N CPUs",
    )


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    """``--mozilla`` and ``--policy``."""
    judging = parser.add_argument_group("policy (its verdict decides the exit status)")
    chosen_policy = judging.add_mutually_exclusive_group()
    chosen_policy.add_argument(
        "--mozilla",
        choices=MOZILLA_PROFILES,
        metavar="PROFILE",
        help=f"judge against Mozilla's server-side TLS profile: {', '.join(MOZILLA_PROFILES)}",
    )
    chosen_policy.add_argument("--policy", metavar="FILE", help="judge against a policy in tlsprobe's JSON format")


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


def read_policy(path: str) -> Policy:
    """The policy in the file at ``path``; ``ConfigurationError`` in one line for anything that is not one: not a
    regular file or too large, not UTF-8, not JSON (nested too deeply, a number too long), not a policy."""
    shown = repr(path[:120])
    try:
        status = os.stat(path)
    except OSError as error:
        raise ConfigurationError(f"policy file {shown} cannot be read: {error.strerror or error}") from None
    if stat.S_ISDIR(status.st_mode):
        raise ConfigurationError(f"policy file {shown} is a directory")
    if stat.S_ISREG(status.st_mode) and status.st_size > MAX_POLICY_BYTES:
        raise ConfigurationError(f"policy file {shown} is too large for a policy ({status.st_size} bytes)")
    if stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode):
        raise ConfigurationError(f"policy file {shown} is a device, not a file")
    try:
        return load_policy(path)
    except UnicodeDecodeError:
        raise ConfigurationError(f"policy {path}: not UTF-8 text (a policy is a JSON file)") from None
    except RecursionError:
        raise ConfigurationError(f"policy {path}: not a policy (JSON nested too deeply)") from None
    except ValueError as error:  # the JSON decoder's: a number with too many digits
        if isinstance(error, ConfigurationError | json.JSONDecodeError):
            raise
        raise ConfigurationError(f"policy {path}: not a policy (a number with too many digits)") from None


def scan_config(options: argparse.Namespace) -> ScanConfig:
    """The configuration the options describe; ``ConfigurationError`` names a bad value."""
    policy = (
        mozilla_profile(options.mozilla) if options.mozilla else read_policy(options.policy) if options.policy else None
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
