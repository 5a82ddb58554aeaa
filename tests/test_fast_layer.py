"""The two test layers (tests/conftest.py): which tests are marked slow at collection, and how a test left
unmarked that starts a server or a process is stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import SERVER_FIXTURES, _no_servers, pytest_collection_modifyitems


class FakeItem:
    """What the hooks read of a collected test."""

    def __init__(self, *markers: str, fixturenames: tuple[str, ...] = ()) -> None:
        self.nodeid = "tests/test_example.py::test_example"
        self.markers = set(markers)
        self.fixturenames = fixturenames

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.markers.add(marker.name)


def marked(item: FakeItem) -> set[str]:
    items: list[Any] = [item]
    pytest_collection_modifyitems(items)
    return item.markers


def test_server_tests_are_marked_slow_at_collection() -> None:
    assert marked(FakeItem("realserver")) == {"realserver", "slow"}
    assert marked(FakeItem(fixturenames=("tmp_path", "web_server"))) == {"slow"}
    assert "tls_server" in SERVER_FIXTURES and "postfix_daemon" in SERVER_FIXTURES


def test_other_tests_stay_in_the_fast_layer() -> None:
    assert marked(FakeItem("anyio", fixturenames=("tmp_path", "test_pki"))) == {"anyio"}


def test_an_unmarked_test_may_not_listen() -> None:
    item: Any = FakeItem()
    with _no_servers(item), socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with pytest.raises(pytest.fail.Exception, match=r"^tests/test_example\.py::test_example listens on .* slow"):
            sock.listen()
        assert sock.fileno() == -1  # closed, not leaked


def test_an_unmarked_test_may_not_start_a_process() -> None:
    item: Any = FakeItem()
    expected = r"^tests/test_example\.py::test_example starts the process .* slow"
    with _no_servers(item), pytest.raises(pytest.fail.Exception, match=expected):
        subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_a_slow_test_may_do_both() -> None:
    item: Any = FakeItem("slow")
    listen, popen_init = socket.socket.listen, subprocess.Popen.__init__
    with _no_servers(item):
        assert (socket.socket.listen, subprocess.Popen.__init__) == (listen, popen_init)
