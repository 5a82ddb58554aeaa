"""The FastAPI integration is optional: tlsprobe never imports FastAPI, and says how to get it when missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts a Python process


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_importing_tlsprobe_never_imports_fastapi() -> None:
    done = run_python(
        "import sys, tlsprobe, tlsprobe.checks, tlsprobe.integrations\n"
        "assert not {'fastapi', 'starlette', 'pydantic'} & set(sys.modules), 'a web framework was imported'"
    )
    assert done.returncode == 0, done.stderr


def test_without_the_extra_the_import_error_names_the_install_command() -> None:
    # A None entry in sys.modules makes `import fastapi` fail as if FastAPI were not installed.
    done = run_python("import sys\nsys.modules['fastapi'] = None\nimport tlsprobe.integrations.fastapi")
    assert done.returncode == 1
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line == (
        "ImportError: tlsprobe.integrations.fastapi needs FastAPI, which is an optional extra: "
        "pip install 'tlsprobe[fastapi]'"
    )
