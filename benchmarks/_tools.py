"""The scanners under test, each run as subprocesses and measured from outside: wall time and peak RSS.

Peak RSS is ``ru_maxrss`` from ``wait4`` (KiB on Linux), taken by a small process wrapped around each tool
(GNU time, or _rss_launcher.py) rather than by the driver, whose own memory a child forked from it would inherit
as its high-water mark. It is the largest of the process and the descendants it waited for, so for a tool that
forks (testssl.sh runs bash and openssl) it is the largest single process of its tree; for one process per
target (sslscan) the driver reports the largest of them.

Every tool's failures are counted from its own output, as honestly as that output allows; ``failure_note``
says how.
"""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import threading
import time
import venv
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tlsprobe

# SSLyze commands covering tlsprobe's default checks (SSLyze has no ALPN, signature-algorithm or finite-field
# group scan). --ems is there because tlsprobe checks the extended master secret too; it costs one connection.
SSLYZE_CIPHER_COMMANDS = ("--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3")
SSLYZE_FEATURE_COMMANDS = (
    "--compression",
    "--fallback",
    "--reneg",
    "--resum",
    "--early_data",
    "--heartbleed",
    "--openssl_ccs",
    "--robot",
    "--elliptic_curves",
    "--http_headers",
)
SSLYZE_COMMANDS = (*SSLYZE_CIPHER_COMMANDS, "--certinfo", *SSLYZE_FEATURE_COMMANDS, "--ems")
SSLYZE_PER_SERVER_LIMIT = 5  # SSLyze's default per_server_concurrent_connections_limit (sslyze/scanner/scanner.py)
TLSPROBE_PER_SERVER_LIMIT = 5  # tlsprobe's default --max-connections-per-server


@dataclass(frozen=True)
class Measured:
    wall_s: float
    peak_rss_kib: int  # the largest single process
    cpu_s: float  # user + system CPU of every process and the descendants each waited for
    processes: int
    exit_codes: tuple[int, ...]
    timed_out: bool


@dataclass
class ToolRun:
    """One tool's run over one scenario's targets."""

    tool: str
    measured: Measured
    failures: int
    failure_note: str
    output: Path
    rss_note: str = ""
    notes: list[str] = field(default_factory=list)


class Report:
    """Markdown printed as it is produced, and kept for ``--markdown-out``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.lines) + "\n")


def _gnu_time() -> str | None:
    path = shutil.which("time")
    if path is None:
        return None
    completed = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return path if "GNU" in completed.stdout + completed.stderr else None


GNU_TIME = _gnu_time()
RSS_METHOD = (
    "ru_maxrss from wait4 by GNU time around each process"
    if GNU_TIME
    else "ru_maxrss from os.wait4 by benchmarks/_rss_launcher.py around each process (its own ~8 MiB is a floor)"
)


def _with_rss_probe(command: Sequence[str], rss_file: Path) -> list[str]:
    """The command run under a small process that reports its peak RSS (see _rss_launcher.py for why)."""
    if GNU_TIME:
        return [GNU_TIME, "--format=%M", f"--output={rss_file}", *command]
    return [sys.executable, "-I", "-S", str(Path(__file__).with_name("_rss_launcher.py")), str(rss_file), *command]


def _read_rss_kib(rss_file: Path) -> int:
    # GNU time writes "Command exited with non-zero status N" before the figure: the figure is the last line.
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(rss_file.read_text().split()[-1])
    return 0


def run_measured(
    commands: Sequence[Sequence[str]], log_dir: Path, *, timeout_s: float, env: dict[str, str]
) -> Measured:
    """Start every command at once, wait for all of them, and measure them as one run."""
    log_dir.mkdir(parents=True, exist_ok=True)
    rss_files = [log_dir / f"{index}.rss" for index in range(len(commands))]
    started = time.perf_counter()
    processes = []
    for index, command in enumerate(commands):
        with (log_dir / f"{index}.out").open("wb") as out, (log_dir / f"{index}.err").open("wb") as err:
            # Own session: the watchdog kills a tool's whole tree (testssl.sh forks openssl processes).
            processes.append(
                subprocess.Popen(
                    _with_rss_probe(command, rss_files[index]),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=env,
                    start_new_session=True,
                )
            )
    timed_out = threading.Event()

    def kill_all() -> None:
        timed_out.set()
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    watchdog = threading.Timer(timeout_s, kill_all)
    watchdog.start()
    exit_codes = []
    cpu_s = 0.0
    try:
        for process in processes:
            _pid, status, usage = os.wait4(process.pid, 0)
            cpu_s += usage.ru_utime + usage.ru_stime
            process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
            exit_codes.append(process.returncode)
    except BaseException:  # interrupted: leave no scanner running
        kill_all()
        for process in processes:
            if process.returncode is None:
                process.wait()
        raise
    finally:
        watchdog.cancel()
    wall_s = time.perf_counter() - started
    peak_kib = max(_read_rss_kib(rss_file) for rss_file in rss_files)
    return Measured(wall_s, peak_kib, cpu_s, len(processes), tuple(exit_codes), timed_out.is_set())


def byte_compiled_copy(destination: Path) -> Path:
    """A copy of the tlsprobe package this driver imported, byte-compiled as ``pip install`` leaves a package;
    the directory to put on ``PYTHONPATH``.

    Why: run from a source tree whose bytecode is not cached (PYTHONDONTWRITEBYTECODE, or a tree it cannot write
    to), every run compiles tlsprobe's sources again, about 0.1 s on this machine, which an installed tlsprobe
    never does. SSLyze runs from its virtualenv, byte-compiled by pip.
    """
    package = Path(tlsprobe.__file__).resolve().parent
    copy = destination / package.name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    if not compileall.compile_dir(copy, quiet=1):
        raise RuntimeError(f"could not byte-compile the copy of tlsprobe in {copy}")
    return destination


def isolated_interpreter(destination: Path) -> Path:
    """A virtualenv's Python that finds this driver's packages but runs none of their start-up hooks; its path.

    Why: SSLyze runs from a virtualenv of its own, whose start-up reads no ``.pth`` file of this interpreter's
    site-packages. Some machines put start-up code there (this one's sandbox imports certifi to extend its CA
    bundle: about 0.02 s a process, measured). tlsprobe runs from a virtualenv too, so both tools start alike:
    its only ``.pth`` names the driver's site-packages directories as plain paths, which Python adds to
    ``sys.path`` without running the ``.pth`` files in them.
    """
    venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(destination)
    relative = Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    packages = [str(Path(path).resolve()) for path in [*site.getsitepackages(), site.getusersitepackages()]]
    (destination / relative / "driver-site-packages.pth").write_text("".join(f"{path}\n" for path in packages))
    return destination / "bin" / "python"


def tool_env(tlsprobe_path: Path | None = None) -> dict[str, str]:
    """The environment of every tool; tlsprobe's subprocess imports tlsprobe from ``tlsprobe_path`` (by default
    the very tree this driver imported it from)."""
    env = dict(os.environ)
    source = str(tlsprobe_path or Path(tlsprobe.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    return env


def write_targets(path: Path, targets: Sequence[str]) -> Path:
    path.write_text("".join(f"{target}\n" for target in targets))
    return path


# --- tlsprobe -------------------------------------------------------------------------------------------------


def tlsprobe_command(
    targets_file: Path, output: Path, *, python: Path | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """The command line of a benchmark's tlsprobe run: the targets file scanned into a JSON Lines file, quietly."""
    return [
        str(python or sys.executable),
        "-m",
        "tlsprobe",
        "--targets-in",
        str(targets_file),
        "--json-out",
        str(output),
        "--jsonl",
        "--quiet",
        # The farm's servers stand for distinct hosts but share loopback addresses (on their own ports): the
        # per-IP cap, which protects one real host listening on many ports, would throttle them as one. SSLyze
        # has none.
        "--max-connections-per-ip",
        "1000000",
        *extra,
    ]


def run_tlsprobe(
    targets_file: Path,
    work: Path,
    *,
    timeout_s: float,
    tlsprobe_path: Path | None = None,
    python: Path | None = None,
    extra: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> ToolRun:
    """Run tlsprobe's CLI on the targets: from ``tlsprobe_path`` with ``python`` (by default this driver's own
    tlsprobe and interpreter), with ``env`` added to its environment."""
    output = work / "tlsprobe.jsonl"
    command = tlsprobe_command(targets_file, output, python=python, extra=extra)
    measured = run_measured([command], work / "logs", timeout_s=timeout_s, env=tool_env(tlsprobe_path) | (env or {}))
    results = read_jsonl(output)
    failed = sum(tlsprobe_failures(result) for result in results.values())
    _lines, problems = jsonl_integrity(output, targets_file.read_text().split())
    notes = [f"tlsprobe JSONL: {'; '.join(problems[:5])}"] if problems else []
    return ToolRun(
        "tlsprobe",
        measured,
        failed + sum(1 for problem in problems if problem.endswith("no line")),
        "targets without a result or with failed connectivity + checks with status failed (not skipped ones)",
        output,
        notes=notes,
    )


def read_jsonl(path: Path) -> dict[str, dict[str, object]]:
    """tlsprobe's JSONL by ``host:port``; see :func:`jsonl_integrity` for lines that do not fit."""
    results: dict[str, dict[str, object]] = {}
    if not path.exists():
        return results
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            result = json.loads(line)
            results[target_key(result["target"])] = result
    return results


def target_key(target: dict[str, object]) -> str:
    return f"{target['host']}:{target['port']}"


def tlsprobe_failures(result: dict[str, object]) -> int:
    connectivity = result.get("connectivity")
    if not isinstance(connectivity, dict) or connectivity.get("status") != "completed":
        return 1
    checks = result.get("checks")
    assert isinstance(checks, list)
    return sum(1 for outcome in checks if outcome.get("status") == "failed")


def jsonl_integrity(path: Path, expected: Sequence[str]) -> tuple[int, list[str]]:
    """(lines, problems): every expected target must have exactly one parsable line, and nothing else."""
    seen: dict[str, int] = {}
    problems = []
    lines = path.read_text().splitlines() if path.exists() else []
    for number, line in enumerate(lines, 1):
        try:
            key = target_key(json.loads(line)["target"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"line {number} is not a result")
            continue
        seen[key] = seen.get(key, 0) + 1
    problems += [f"{key}: {count} lines" for key, count in seen.items() if count > 1]
    problems += [f"{key}: no line" for key in expected if key not in seen]
    problems += [f"{key}: not a target" for key in seen if key not in set(expected)]
    return len(lines), problems


# --- SSLyze ---------------------------------------------------------------------------------------------------


def run_sslyze(sslyze: str, targets_file: Path, work: Path, *, timeout_s: float) -> ToolRun:
    output = work / "sslyze.json"
    command = [sslyze, *SSLYZE_COMMANDS, "--json_out", str(output), "--targets_in", str(targets_file), "--quiet"]
    measured = run_measured([command], work / "logs", timeout_s=timeout_s, env=tool_env())
    expected = len(targets_file.read_text().split())
    servers = read_sslyze(output)
    failed = expected - len(servers) + sum(sslyze_failures(server) for server in servers.values())
    return ToolRun(
        "SSLyze",
        measured,
        failed,
        "servers missing or with failed connectivity + commands with status ERROR",
        output,
    )


def read_sslyze(path: Path) -> dict[str, dict[str, object]]:
    """SSLyze's server results by ``host:port``."""
    if not path.exists():
        return {}
    with contextlib.suppress(ValueError):
        document = json.loads(path.read_text())
        servers = {}
        for server in document.get("server_scan_results", []):
            location = server["server_location"]
            servers[f"{location['hostname']}:{location['port']}"] = server
        return servers
    return {}


def sslyze_failures(server: dict[str, object]) -> int:
    if server.get("connectivity_status") != "COMPLETED":
        return 1
    return len(sslyze_errored_commands(server))


def sslyze_errored_commands(server: dict[str, object]) -> list[str]:
    attempts = server.get("scan_result") or {}
    assert isinstance(attempts, dict)
    return sorted(name for name, attempt in attempts.items() if attempt and attempt.get("status") == "ERROR")


def sslyze_version(sslyze: str) -> str:
    completed = subprocess.run([sslyze, "--help"], capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith("SSLyze version"):
            return line.split()[-1]
    return "unknown"


# --- sslscan --------------------------------------------------------------------------------------------------


def run_sslscan(sslscan: str, targets: Sequence[str], work: Path, *, timeout_s: float) -> ToolRun:
    """One sslscan per target, all at once: sslscan scans a target list one after the other, so this is how a
    user gets a fleet scanned quickly (each process is itself sequential: one connection at a time)."""
    outputs = [work / f"sslscan-{index}.xml" for index in range(len(targets))]
    commands = [
        [sslscan, "--no-colour", f"--xml={output}", target] for output, target in zip(outputs, targets, strict=True)
    ]
    measured = run_measured(commands, work / "logs", timeout_s=timeout_s, env=tool_env())
    failed = sum(sslscan_failures(output, code) for output, code in zip(outputs, measured.exit_codes, strict=True))
    return ToolRun(
        "sslscan",
        measured,
        failed,
        "`<error>` elements in its XML + targets with no result or a non-zero exit",
        work,
        rss_note=f"largest of {len(targets)} processes (one per target)",
    )


def sslscan_failures(output: Path, exit_code: int) -> int:
    try:
        document = ET.parse(output).getroot()
    except (OSError, ET.ParseError):
        return 1
    errors = len(document.findall(".//error"))
    no_result = document.find("ssltest") is None or exit_code != 0
    return errors + (1 if no_result and not errors else 0)


# --- testssl.sh -----------------------------------------------------------------------------------------------


def run_testssl(testssl: str, targets: Sequence[str], work: Path, *, timeout_s: float) -> ToolRun:
    """testssl.sh's own mass mode: ``--file`` with ``--parallel`` (at most 20 targets at once, its default)."""
    output = work / "testssl.json"
    targets_file = write_targets(work / "testssl-targets.txt", targets)
    command = [testssl, "--quiet", "--color", "0", "--parallel", "--jsonfile", str(output), "--file", str(targets_file)]
    measured = run_measured([command], work / "logs", timeout_s=timeout_s, env=tool_env())
    failed, notes = testssl_failures(output, work / "logs" / "0.out", targets)
    return ToolRun(
        "testssl.sh",
        measured,
        failed,
        "findings of severity WARN (its scan problems) + targets without their 'Done' line",
        output,
        rss_note="largest process of its tree (bash and the openssl processes it forks)",
        notes=notes,
    )


def testssl_failures(output: Path, log: Path, targets: Sequence[str]) -> tuple[int, list[str]]:
    try:
        findings = json.loads(output.read_text())
    except (OSError, ValueError):
        return len(targets), ["testssl.sh wrote no JSON"]
    # Its mass mode leaves the per-target scanTime out of the merged JSON: a finished target is its "Done" line.
    done = set(re.findall(r"^ Done .*-->> [^ ]+:(\d+) ", log.read_text(errors="replace"), re.MULTILINE))
    ports = {target.rsplit(":", 1)[1] for target in targets}
    ours = [finding for finding in findings if finding.get("port") in ports]
    stray = [finding for finding in findings if finding.get("port") not in ports]
    warnings = sum(1 for finding in ours if finding.get("severity") == "WARN")
    notes = []
    if stray:
        # testssl.sh 3.0's mass mode adds one entry of its own (port 443, "Scan interrupted") to the JSON file.
        notes.append(f"testssl.sh: ignored {len(stray)} JSON entries for no target: {stray[0].get('finding')!r}")
    return warnings + len(ports - done), notes


def first_line_of(command: Sequence[str]) -> str:
    """A tool's version line, or '' when it cannot be run."""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = completed.stdout + completed.stderr
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
