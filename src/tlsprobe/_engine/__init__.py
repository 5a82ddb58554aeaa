"""The scan engine: the ``Scanner`` (limits, a task group per server, the result stream), the one seam where a
check's exceptions become outcomes, and the one-call API. Knows checks only through their registry and protocol."""
