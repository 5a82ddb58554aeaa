"""``tlsprobe.monitoring``'s public names: sorted, complete."""

from __future__ import annotations

import types

import tlsprobe.monitoring


def test_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(tlsprobe.monitoring).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert tlsprobe.monitoring.__all__ == sorted(tlsprobe.monitoring.__all__)
    assert set(tlsprobe.monitoring.__all__) == public
