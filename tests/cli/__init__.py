"""The ``tlsprobe`` command end to end: a real process, its streams on pipes or pseudo-terminals."""
