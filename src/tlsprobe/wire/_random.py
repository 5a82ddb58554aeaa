"""Random bytes for values the server sees anyway: ClientHello randoms, session ids, padding, filler records.

They need to be fresh, not secret, and a scan draws thousands of them: one ``getrandom`` call per 4 KiB instead
of one per value (a system call costs tens of microseconds on some kernels and sandboxes, benchmarks/RESULTS.md).
Secrets (a premaster secret, a private key) come from ``os.urandom`` or ``cryptography`` directly, never from here.
"""

from __future__ import annotations

import os
import threading

_POOL_SIZE = 4096


class _Pool:
    __slots__ = ("bytes", "lock", "offset")

    def __init__(self) -> None:
        self.lock = threading.Lock()  # worker threads build hellos too
        self.bytes = b""
        self.offset = 0

    def take(self, count: int) -> bytes:
        with self.lock:
            if self.offset + count > len(self.bytes):
                self.bytes = os.urandom(max(_POOL_SIZE, count))
                self.offset = 0
            start = self.offset
            self.offset += count
            return self.bytes[start : self.offset]

    def forget(self) -> None:
        """A forked child must not hand out the bytes its parent will."""
        self.lock = threading.Lock()
        self.bytes = b""
        self.offset = 0


_pool = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.forget)


def nonce_bytes(count: int) -> bytes:
    """``count`` fresh random bytes for a value the peer sees (never for a secret)."""
    return _pool.take(count)
