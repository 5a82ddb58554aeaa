"""The report's client-simulation table: one line per client, what it would negotiate or why it would fail."""

from __future__ import annotations

from tlsprobe._cli._text import Line, painted
from tlsprobe._model._results import ServerScanResult
from tlsprobe._model._simulation import SimulatedHandshake, SimulationOutcome


def render_client_simulation(result: ServerScanResult) -> list[Line | str]:
    """The table, after a blank line; nothing when there is no simulation (connectivity failed)."""
    handshakes = result.client_simulation
    if not handshakes:
        return []
    lines: list[Line | str] = ["", "  Client simulation (computed from the results above, no connection made):"]
    if all(handshake.outcome is SimulationOutcome.UNKNOWN for handshake in handshakes):
        # Missing checks leave every client unknown for a reason or two: say them once.
        notes = "; ".join(sorted({handshake.note or "" for handshake in handshakes}))
        lines.append(Line(lead=(("    Every client:   ", None), painted("unknown", "yellow")), text=f": {notes}"))
        return lines
    width = max(len(handshake.client_name) for handshake in handshakes)
    lines += [_line(handshake, width) for handshake in handshakes]
    return lines


def _line(handshake: SimulatedHandshake, width: int) -> Line:
    name = (f"    {handshake.client_name:<{width}}  ", None)
    if handshake.outcome is SimulationOutcome.FAILS:
        version = f" at {handshake.version.label}" if handshake.version is not None else ""
        return Line(lead=(name, painted("FAILS", "red")), text=f"{version}: {handshake.note}")
    if handshake.outcome is SimulationOutcome.UNKNOWN:
        return Line(lead=(name, painted("unknown", "yellow")), text=f": {handshake.note}")
    return Line(lead=(name,), text=_connects(handshake))


def _connects(handshake: SimulatedHandshake) -> str:
    assert handshake.version is not None and handshake.cipher_suite is not None
    parts = [f"{handshake.version.label:<8}", handshake.cipher_suite]
    if handshake.group is not None:
        parts.append(handshake.group + (" (HelloRetryRequest)" if handshake.hello_retry_request else ""))
    elif handshake.dh_bits is not None:
        parts.append(f"DH {handshake.dh_bits} bits")
    if handshake.certificate_key_type is not None:
        size = f" {handshake.certificate_key_size}" if handshake.certificate_key_size is not None else ""
        parts.append(f"{handshake.certificate_key_type.value.upper()}{size}")
    if handshake.alpn is not None:
        parts.append(handshake.alpn)
    text = ", ".join(parts[1:])
    return f"{parts[0]} {text}" + (f" ({handshake.note})" if handshake.note else "")
