"""Talking to one server: the native prober (hand-built hellos over ``_net``), conversations after a flight, the
connectivity phase, the hellos tlsprobe offers, and ``ServerContext``, the one door a check has to its server."""
