"""What a check is: the protocol every check follows, and the optional scheduling hints the scanner reads.

A check reaches its server only through ``ServerContext`` (``_probing``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, TypeVar

from tlsprobe._probing._context import EarlyHello, ServerContext

ResultT_co = TypeVar("ResultT_co", covariant=True)


class Check(Protocol[ResultT_co]):
    """A check: its options are its fields, ``name`` is its JSON key and CLI flag."""

    result_type: ClassVar[type]
    """The class of what ``run`` returns, for the JSON Schema."""

    @property
    def name(self) -> str:
        """Stable identifier: JSON key and CLI flag."""
        ...

    async def run(self, server: ServerContext) -> ResultT_co:
        """Gather observations through ``server`` and interpret them."""
        ...


def probes_in_sequence(check: Check[Any]) -> bool:
    """Whether ``check`` says (a class attribute ``probes_in_sequence = True``, optional) that its probes mostly
    wait for one another, as enumerations do: its connections are then served before independent probes'."""
    return getattr(check, "probes_in_sequence", False) is True


def long_held_probe(check: Check[Any]) -> bool:
    """Whether ``check`` says (a class attribute ``long_held_probe = True``, optional) that its one probe holds its
    connection for many round trips (a handshake, then more): it is then served before other independent probes."""
    return getattr(check, "long_held_probe", False) is True


def early_hellos(check: Check[Any], server_name: str | None) -> tuple[EarlyHello, ...]:
    """The hellos ``check`` says (an optional ``early_hellos(server_name)`` method) it will ask for on any server
    that answers, in the order they should go: the scanner sends them beside the first contact, instead of
    after it, and keeps each answer as the shared observation the check will read."""
    method = getattr(check, "early_hellos", None)
    if method is None:
        return ()
    return tuple(hello for hello in method(server_name) if isinstance(hello, EarlyHello))
