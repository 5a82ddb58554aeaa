"""The public API passes ``mypy --strict`` in a user's code: the package ships ``py.typed`` and precise types."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api as mypy_api

import tlsprobe

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def test_the_package_is_marked_as_typed() -> None:
    assert (Path(tlsprobe.__file__).parent / "py.typed").is_file()


@pytest.mark.slow  # runs mypy: several seconds
@pytest.mark.timeout(240)
def test_user_code_and_the_example_app_pass_mypy_strict(tmp_path: Path) -> None:
    # A user's configuration, not the project's: only --strict, with a cache of its own.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")
    files = [str(HERE / "typing_user_code.py"), str(ROOT / "examples" / "fastapi_app.py")]
    stdout, stderr, status = mypy_api.run(
        ["--config-file", str(config), "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", *files]
    )
    assert (stdout, stderr, status) == ("", "", 0)
