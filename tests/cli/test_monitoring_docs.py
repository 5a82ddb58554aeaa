"""The examples of docs/monitoring.md work: every ``tlsprobe`` command line in it (shell, crontab, systemd unit,
Kubernetes CronJob) is accepted by the real parser of its subcommand, and the systemd units pass
``systemd-analyze verify`` where systemd is installed."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tlsprobe._cli._diff import build_diff_parser
from tlsprobe._cli._history import build_history_parser
from tlsprobe._cli._monitor import build_monitor_parser

DOC = Path(__file__).parents[2] / "docs" / "monitoring.md"
PARSERS = {"monitor": build_monitor_parser, "diff": build_diff_parser, "history": build_history_parser}


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.DOTALL)


def _command_lines() -> list[list[str]]:
    """Every ``tlsprobe ...`` command of the document, as argv."""
    lines: list[list[str]] = []
    for block in _blocks("sh"):
        for command in block.replace("\\\n", " ").splitlines():
            words = shlex.split(command, comments=True)
            if words[:1] == ["tlsprobe"]:
                lines.append(words)
    for block in _blocks("crontab"):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(shlex.split(line)[5:])  # after the five time fields
    for block in _blocks("ini"):
        for line in block.splitlines():
            if line.startswith("ExecStart="):
                words = shlex.split(line.removeprefix("ExecStart="))
                lines.append(["tlsprobe", *words[1:]])
    for block in _blocks("yaml"):
        job = yaml.safe_load(block)
        (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        lines.append(["tlsprobe", *container["args"]])
    return lines


def test_the_document_has_an_example_for_each_scheduler() -> None:
    lines = _command_lines()
    assert len(_blocks("crontab")) == 1 and len(_blocks("yaml")) == 1 and len(_blocks("ini")) == 2
    assert sum(line[1] == "monitor" for line in lines) >= 4


@pytest.mark.parametrize("argv", _command_lines(), ids=lambda argv: " ".join(argv[:3]))
def test_each_command_line_parses(argv: list[str]) -> None:
    assert argv[0] == "tlsprobe"
    parser = PARSERS[argv[1]]()
    options = parser.parse_args(argv[2:])  # a usage error would exit 2 here
    if argv[1] == "monitor":
        assert options.targets_in is not None


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    service, timer = _blocks("ini")
    executable = shutil.which("tlsprobe") or shutil.which("true")
    assert executable is not None
    (tmp_path / "tlsprobe-monitor.service").write_text(service.replace("/usr/local/bin/tlsprobe", executable))
    (tmp_path / "tlsprobe-monitor.timer").write_text(timer)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "tlsprobe-monitor.service", "tlsprobe-monitor.timer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert "tlsprobe-monitor" not in verified.stderr  # no warning about our units
