"""One broad hello at the highest version from SSL 3.0 to TLS 1.2 that the server accepts, shared per server.

Several checks read what a ServerHello below TLS 1.3 says (extended master secret, renegotiation_info, the
compression method chosen); they share this one answer, so together they cost one connection (plus one per
version the server refuses on the way down). It offers DEFLATE as well as no compression, so the same hello tells
whether the server would compress, and it asks for OCSP stapling and SCTs, so that its answer is also the
certificate check's first chain. Servers that also speak TLS 1.3 are still tested below it: these properties
only exist there, and a downgrade attack would meet them there. The byte-level probes (Heartbleed, CCS injection)
talk to the server at the same version, on their own connection (``react_at_baseline``).

The broad hello at each version (``broad_answer``) is sent once per server and shared too: it is also the first
hello of the cipher-suite enumeration at that version, and the group and signature scheme it got are the first
picks of those enumerations (``_enumeration.KnownPick``); so it offers every signature scheme, in the order
that enumeration does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs

from tlsprobe._exceptions import CheckNotApplicable, MalformedServerResponseError, ServerResponseError
from tlsprobe._probing._context import EarlyHello, ServerContext
from tlsprobe._probing._conversation import Conversation
from tlsprobe._probing._hello_specs import common_suite_codes, offered_schemes, tls_hello
from tlsprobe.wire import AlertDescription, ClientHelloSpec
from tlsprobe.wire._answers import HelloAccepted, HelloOutcome, HelloRejected
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import TLS_EMPTY_RENEGOTIATION_INFO_SCSV

T = TypeVar("T")
DEFLATE = 1
_VERSIONS = (TLSVersion.TLS1_2, TLSVersion.TLS1_1, TLSVersion.TLS1_0, TLSVersion.SSL3)


async def tls12_baseline(server: ServerContext) -> HelloAccepted:
    """The shared answer; ``CheckNotApplicable`` when the server accepts no version from SSL 3.0 to TLS 1.2."""
    return await server.shared("tls12_baseline", _gather)


async def _gather(server: ServerContext) -> HelloAccepted:
    for version in _VERSIONS:
        if version > server.profile.highest_version:
            continue
        outcome = await broad_answer(server, version)
        if isinstance(outcome, HelloAccepted) and outcome.version is version:
            return outcome
    raise CheckNotApplicable("the server accepts no protocol version from SSL 3.0 to TLS 1.2")


def broad_hello(version: TLSVersion, server_name: str | None) -> ClientHelloSpec:
    """The baseline's hello at ``version`` (SSL 3.0 to TLS 1.2): the most common suites, every group and
    signature scheme, DEFLATE, and requests for OCSP stapling and SCTs."""
    suites = common_suite_codes(version)
    if version is TLSVersion.SSL3:
        # An SSL 3.0 hello carries no extensions; the SCSV lets a server still show RFC 5746 support.
        suites.append(TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
    return attrs.evolve(
        tls_hello(version, suites, server_name),
        signature_algorithms=tuple(offered_schemes()),
        compression_methods=(DEFLATE, 0),
        # The certificate check reads its first chain from this answer, with what the server staples.
        status_request=True,
        signed_certificate_timestamp=True,
    )


async def broad_answer(server: ServerContext, version: TLSVersion) -> HelloOutcome:
    """The server's answer to ``broad_hello`` at ``version``, sent once per server whoever asks first."""
    spec = broad_hello(version, server.profile.server_name)
    return await server.shared(_broad_key(version), lambda context: context.hello(spec))


async def early_broad_answer(server: ServerContext, version: TLSVersion) -> HelloOutcome | None:
    """The answer to ``broad_hello`` at ``version`` when the scanner sends it before the checks (every scan with
    that version's cipher-suite check does), else None: sends nothing."""
    outcome = await server.early_shared(_broad_key(version))
    return outcome if isinstance(outcome, HelloAccepted | HelloRejected) else None


def refuses_version(outcome: HelloOutcome, version: TLSVersion) -> bool:
    """Whether an answer to a hello at ``version`` shows the version itself is off (not just the suites offered):
    a ServerHello at another version, or a protocol_version alert."""
    if isinstance(outcome, HelloAccepted):
        return outcome.version is not version
    return outcome.alert is not None and outcome.alert.description == AlertDescription.protocol_version


def early_broad_hello(version: TLSVersion, server_name: str | None) -> EarlyHello:
    """``broad_hello`` at ``version``, for the scanner to send before any check asks (while the first contact is
    under way); the checks that ask later get its answer, or the error that ended it, from the shared
    observations."""
    return EarlyHello(key=_broad_key(version), spec=broad_hello(version, server_name))


def _broad_key(version: TLSVersion) -> str:
    return f"broad_hello_{version.value}"


async def react_at_baseline(
    server: ServerContext,
    records: Callable[[TLSVersion], bytes],
    read: Callable[[Conversation], Awaitable[T]],
    *,
    heartbeat: bool = False,
) -> tuple[TLSVersion, T]:
    """A broad hello at the baseline's version, then ``records(version)`` where the server's flight ends, and
    what ``read`` makes of the server's reaction (the byte-level probes): the version and that reading.

    The records go right behind the hello (``converse_ahead``), which saves a round trip; should the server then
    not complete its flight, answer them out of order (before or inside its flight), or answer with another
    version than they were made for, they go once more on a new connection, after the flight. Whatever that
    second connection gets stands: the server refusing a hello it has just accepted is a
    ``ServerResponseError``, a malformed flight a ``MalformedServerResponseError``."""
    version = (await tls12_baseline(server)).version
    spec = attrs.evolve(
        tls_hello(version, common_suite_codes(version), server.profile.server_name), heartbeat=heartbeat
    )
    sent = records(version)

    async def read_if_as_sent(conversation: Conversation) -> T | None:
        return await read(conversation) if conversation.accepted.version is version else None

    ahead = await converse_ahead(server, spec, read_if_as_sent, sent)
    if not isinstance(ahead, HelloRejected) and ahead is not None:
        return version, ahead

    async def send_then_read(conversation: Conversation) -> T:
        await conversation.send(records(conversation.accepted.version))
        return await read(conversation)

    answer = await server.converse(spec, send_then_read)
    if isinstance(answer, HelloRejected):
        raise ServerResponseError(f"server refused at {version.label} a hello it had accepted: {answer.reason}")
    return version, answer


async def converse_ahead(
    server: ServerContext, spec: ClientHelloSpec, script: Callable[[Conversation], Awaitable[T]], ahead: bytes
) -> T | HelloRejected | None:
    """``server.converse`` with the records ``ahead`` right behind the hello: what ``script`` makes of the
    conversation, the refusal, or None when the flight could not be read (a ``MalformedServerResponseError``
    before ``script`` began). That is how a server answering the early records before or inside its flight
    shows (a heartbeat response, an alert cutting the flight short): the caller sends them again after the
    flight, where a flight malformed in itself fails once more. An error from ``script`` is raised: the flight
    was read, so the early records did not break it."""
    flight_read = False

    async def after_flight(conversation: Conversation) -> T:
        nonlocal flight_read
        flight_read = True
        return await script(conversation)

    try:
        return await server.converse(spec, after_flight, ahead=ahead)
    except MalformedServerResponseError:
        if flight_read:
            raise
        return None
