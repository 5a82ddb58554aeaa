"""``python -m tlsprobe``."""

import sys

from tlsprobe._cli import main

sys.exit(main())
