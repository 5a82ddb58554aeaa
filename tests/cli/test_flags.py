"""Flags as people type them, the version report, shell completion and the subcommands' own help."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli._process import run_cli
from tlsprobe.testing import LocalTLSServer

pytestmark = pytest.mark.slow  # each test runs the command


@pytest.mark.realserver
def test_check_flags_are_hyphenated_and_the_underscore_spelling_still_works(modern: LocalTLSServer) -> None:
    target = f"127.0.0.1:{modern.port}"
    for flag in ("--tls1-3-cipher-suites", "--tls1_3_cipher_suites"):
        ran = run_cli(target, flag, "--jsonl")
        assert [check["name"] for check in json.loads(ran.stdout)["checks"]] == ["tls1_3_cipher_suites"], ran.stderr
    shown = run_cli("--help").stdout
    assert "--tls1-3-cipher-suites" in shown and "--openssl-ccs-injection" in shown
    assert "_cipher_suites" not in shown and "--session_resumption" not in shown  # the old spelling is hidden


@pytest.mark.realserver
def test_targets_in_dash_reads_stdin(modern: LocalTLSServer) -> None:
    lines = f"# from a pipe\n127.0.0.1:{modern.port}\n127.0.0.1:1\n".encode()
    ran = run_cli("--targets-in", "-", "--tls1_3_cipher_suites", "--jsonl", stdin=lines)
    assert sorted(json.loads(line)["target"]["port"] for line in ran.stdout.splitlines()) == sorted([modern.port, 1])


def test_version_names_every_library_that_decides_a_result() -> None:
    import certifi
    import cryptography

    from tlsprobe import __version__

    ran = run_cli("--version")
    assert ran.code == 0
    assert ran.stdout.startswith(f"tlsprobe {__version__}\n")
    assert re.search(r"OpenSSL 1\.0\.2\w* .*OpenSSL 1\.1\.1\w*|OpenSSL 1\.1\.1\w* .*OpenSSL 1\.0\.2", ran.stdout, re.S)
    assert f"cryptography {cryptography.__version__}" in ran.stdout
    assert f"certifi {certifi.__version__}" in ran.stdout and "Python 3." in ran.stdout


def _bash_completions(script: str, words: list[str]) -> list[str]:
    """What bash offers for the last of ``words`` with the completion ``script`` loaded."""
    quoted = " ".join(f"'{word}'" for word in words)
    program = (
        f"{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        f'COMP_LINE="{" ".join(words)}"; COMP_POINT=${{#COMP_LINE}}; _tlsprobe tlsprobe; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    completed = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30, check=True)
    return completed.stdout.split()


def test_bash_completion_offers_flags_choices_and_subcommands() -> None:
    ran = run_cli("--completion", "bash")
    assert ran.code == 0
    assert _bash_completions(ran.stdout, ["tlsprobe", "--tls1-"]) == [
        f"--tls1-{minor}-cipher-suites" for minor in range(4)
    ]
    assert _bash_completions(ran.stdout, ["tlsprobe", "--mozilla", ""]) == ["intermediate", "modern", "old"]
    assert "demo" in _bash_completions(ran.stdout, ["tlsprobe", "de"])
    assert "--tls1_3_cipher_suites" not in ran.stdout  # hidden aliases are not offered


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_completion_scripts_are_valid(shell: str, tmp_path: Path) -> None:
    ran = run_cli("--completion", shell)
    assert ran.code == 0 and "tls1-3-cipher-suites" in ran.stdout and "tls1_3_cipher_suites" not in ran.stdout
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: the script is checked for its content only")
    check = [shell, "-n"] if shell == "zsh" else [shell, "--no-execute"]
    completed = subprocess.run([*check], input=ran.stdout, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 0, completed.stderr
    if shell == "zsh":  # loaded after compinit, it registers itself for tlsprobe
        script = tmp_path / "_tlsprobe"
        script.write_text(ran.stdout)
        program = f"autoload -U compinit; compinit -u -d {script}.dump; source {script}; print -r -- $_comps[tlsprobe]"
        loaded = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, timeout=30, check=True)
        assert loaded.stdout.strip() == "_tlsprobe", loaded.stderr
    if shell == "fish":  # fish completes a command line on request: what it offers, checked
        program = f"{ran.stdout}\ncomplete -C 'tlsprobe --tls1-'; complete -C 'tlsprobe --mozilla '"
        offered = subprocess.run(["fish", "-c", program], capture_output=True, text=True, timeout=30, check=True)
        words = [line.split("\t")[0] for line in offered.stdout.splitlines()]
        assert words == [*(f"--tls1-{minor}-cipher-suites" for minor in range(4)), "intermediate", "modern", "old"]


def test_demo_help_is_the_demos_own() -> None:
    ran = run_cli("demo", "--help")
    assert ran.code == 0
    assert ran.stdout.startswith("usage: tlsprobe demo")
    assert "--targets-in" not in ran.stdout and "--json-out" in ran.stdout
