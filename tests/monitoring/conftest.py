"""The directory the scripted scans keep their CA file in, one per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ca_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where ``tests.monitoring.scans`` writes the CA the certificate check is given."""
    return tmp_path_factory.mktemp("monitoring-ca")
