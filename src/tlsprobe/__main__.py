"""``python -m tlsprobe``."""

from tlsprobe._cli import run

run()
