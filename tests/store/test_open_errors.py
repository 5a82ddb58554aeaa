"""What cannot be opened is a ``StoreError`` with one clear line, never a password, never a traceback; and the
store costs the scan command nothing until it is opened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.daemons import free_port
from tlsprobe import TLSProbeError
from tlsprobe.store import StoreError, open_store

USAGE = "give a file path, sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DATABASE"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("", f"no store location: {USAGE}"),
        ("   ", f"no store location: {USAGE}"),
        ("sqlite://", f"sqlite://: the store must be a file ({USAGE})"),
        ("sqlite:///:memory:", f"sqlite:///:memory:: the store must be a file ({USAGE})"),
        (
            "mysql://admin:hunter2@db.example/results",
            f"mysql://admin:***@db.example/results: tlsprobe stores results in SQLite or PostgreSQL (with psycopg 3): "
            f"{USAGE}",
        ),
        (
            "postgresql+psycopg2://db.example/results",
            "postgresql+psycopg2://db.example/results: tlsprobe stores results in SQLite or PostgreSQL "
            f"(with psycopg 3): {USAGE}",
        ),
        (
            "postgresql://admin:hunter2@db.example:notaport/x",
            f"not a database URL: postgresql://***@db.example:notaport/x ({USAGE})",
        ),
    ],
)
def test_a_location_tlsprobe_cannot_use(location: str, message: str) -> None:
    with pytest.raises(StoreError) as refused:
        open_store(location)
    assert str(refused.value) == message
    assert isinstance(refused.value, TLSProbeError)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("a shopping list, not a database\n" * 50)
    with pytest.raises(StoreError) as refused:
        open_store(str(path))
    assert str(refused.value) == f"cannot open the store {path}: file is not a database"
    assert path.read_text() == "a shopping list, not a database\n" * 50  # left as it was


def test_a_folder_is_not_a_database_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as refused:
        open_store(str(tmp_path))
    assert str(refused.value) == f"{tmp_path} is a directory, not a database file"


def test_a_folder_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match=r"^cannot create the folder of .*/file/results\.sqlite: "):
        open_store(str(tmp_path / "file" / "results.sqlite"))


def test_a_postgresql_server_that_does_not_answer_hides_the_password() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StoreError) as refused:
        open_store(f"postgresql://tlsprobe:s3cret-pw@127.0.0.1:{port}/results")
    message = str(refused.value)
    assert message.startswith(f"cannot open the store postgresql://tlsprobe:***@127.0.0.1:{port}/results: ")
    assert "Connection refused" in message
    assert "s3cret-pw" not in message and "\n" not in message


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow  # starts a Python process
def test_importing_the_store_does_not_import_sqlalchemy() -> None:
    done = run_python(
        "import sys, tlsprobe, tlsprobe.store\n"
        "assert not [name for name in sys.modules if name.split('.')[0] in ('sqlalchemy', 'psycopg')], 'imported'"
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow  # starts a Python process
def test_without_psycopg_postgresql_names_the_extra() -> None:
    # A None entry in sys.modules makes `import psycopg` fail as if it were not installed.
    done = run_python(
        "import sys\nsys.modules['psycopg'] = None\nfrom tlsprobe.store import open_store, StoreError\n"
        "try:\n    open_store('postgresql://u:pw@127.0.0.1:1/x')\nexcept StoreError as error:\n    print(error)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "postgresql://u:***@127.0.0.1:1/x: PostgreSQL needs psycopg 3, an optional extra: "
        "pip install 'tlsprobe[postgresql]'\n"
    )
