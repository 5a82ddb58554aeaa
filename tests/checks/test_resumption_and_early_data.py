"""Session resumption (session IDs, tickets, TLS 1.3 PSK) and TLS 1.3 early data, on real servers that resume
each way, some ways, or not at all; and the parsing and verdicts behind them, without sockets."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import jsonschema
import pytest

from tests.servers.processes import (
    start_gnutls_serv,
    start_nassl_server,
    start_openssl_s_server,
    start_tlslite_server,
)
from tlsprobe import (
    CheckCompleted,
    CheckFailed,
    CheckSkipped,
    ErrorKind,
    Limits,
    ScanConfig,
    ServerScanResult,
    ServerTarget,
    TLSVersion,
    json_schema,
    scan_server,
    to_jsonable,
)
from tlsprobe._tls._resumption import (
    TICKET_WAIT_S,
    SessionDetails,
    early_data_handshake,
    parse_session_text,
    resumption_handshake,
    session_resumed,
)
from tlsprobe.checks import Check
from tlsprobe.checks.early_data import EarlyDataCheck, EarlyDataResult, early_data_request
from tlsprobe.checks.session_resumption import (
    ResumptionAttempts,
    ResumptionSupport,
    SessionResumptionCheck,
    SessionResumptionResult,
    interpret_attempts,
)
from tlsprobe.testing import CountingProxy, LocalTLSServer, TestPKI

GNUTLS_PRIORITY = "NORMAL"
GNUTLS_HINT_S = 21600.0  # gnutls-serv's ticket lifetime (6 hours)
OPENSSL_3_HINT_S = 7200.0  # OpenSSL's default session timeout, sent as the hint
OPENSSL_102_HINT_S = 300.0  # the session timeout of OpenSSL 1.0.2's SSLv23 method

DEFAULT_ATTEMPTS = 2
# Three ways, each a full handshake plus the default resumption attempts, and the shared baseline hello.
ALL_WAYS_CONNECTIONS = 1 + 3 * (1 + DEFAULT_ATTEMPTS)


def _connections(result: ServerScanResult, name: str) -> int:
    outcome = result.outcome(name)
    assert outcome is not None
    return outcome.cost.connections


def _default_attempts(succeeded: int = DEFAULT_ATTEMPTS, *, hint: float | None = None) -> ResumptionAttempts:
    return interpret_attempts(issued=True, attempted=DEFAULT_ATTEMPTS, succeeded=succeeded, ticket_lifetime_hint_s=hint)


NOTHING_ISSUED = ResumptionAttempts(
    support=ResumptionSupport.NOT_SUPPORTED, issued=False, attempted=0, succeeded=0, ticket_lifetime_hint_s=None
)


def _completed(result: ServerScanResult, name: str) -> CheckCompleted[Any]:
    outcome = result.outcome(name)
    assert isinstance(outcome, CheckCompleted), outcome
    return outcome


def _skipped(result: ServerScanResult, name: str) -> str:
    outcome = result.outcome(name)
    assert isinstance(outcome, CheckSkipped), outcome
    return outcome.reason


# -- parsing and verdicts, no sockets ---------------------------------------------------------------------------

TLS12_WITH_TICKET = """SSL-Session:
    Protocol  : TLSv1.2
    Cipher    : ECDHE-RSA-AES256-GCM-SHA384
    Session-ID: 14a9b15332f2dc2fe3138d26e8a70861979b73c7836cff86fb812ce0be397496
    Session-ID-ctx: 
    Master-Key: 8BF8F5E706CA8C14BF12E579AA7A0CC1DBAF107C98A4528C1633F7C1B5867F89D0632314F34A3C88BEA807CCFF09A654
    PSK identity: None
    TLS session ticket lifetime hint: 21600 (seconds)
    TLS session ticket:
    0000 - 7e 1e 54 8f 65 ee 6e 96-62 f1 6f d9 12 31 e0 15   ~.T.e.n.b.o..1..
    0010 - b4 cb b6                                          ...

    Start Time: 1795295951
    Timeout   : 7200 (sec)
    Compression: 1 (zlib compression)
    Verify return code: 19 (self signed certificate in certificate chain)
    Extended master secret: yes
"""  # noqa: W291 - OpenSSL prints "Session-ID-ctx: " with a trailing space

TLS13_BEFORE_TICKET = """SSL-Session:
    Protocol  : TLSv1.3
    Cipher    : TLS_AES_256_GCM_SHA384
    Session-ID: 
    Session-ID-ctx: 
    Resumption PSK: 
    PSK identity: None
    Max Early Data: 0
"""  # noqa: W291


def test_parse_a_tls12_session_with_a_ticket() -> None:
    assert parse_session_text(TLS12_WITH_TICKET) == SessionDetails(
        session_id="14A9B15332F2DC2FE3138D26E8A70861979B73C7836CFF86FB812CE0BE397496",
        secret="8BF8F5E706CA8C14BF12E579AA7A0CC1DBAF107C98A4528C1633F7C1B5867F89D0632314F34A3C88BEA807CCFF09A654",
        has_ticket=True,
        ticket_lifetime_hint_s=21600.0,
        cipher_suite="ECDHE-RSA-AES256-GCM-SHA384",
        ticket=bytes.fromhex("7e1e548f65ee6e9662f16fd91231e015b4cbb6"),
        extended_master_secret=True,
        compression_method=1,
    )


def test_parse_a_tls13_session_before_its_ticket_and_garbage() -> None:
    empty = SessionDetails(session_id="", secret="", has_ticket=False, ticket_lifetime_hint_s=None)
    assert parse_session_text(TLS13_BEFORE_TICKET) == attrs.evolve(empty, cipher_suite="TLS_AES_256_GCM_SHA384")
    assert parse_session_text("") == empty
    # "Session-ID-ctx:" is not the session ID, and a hint without a ticket means nothing.
    assert parse_session_text("Session-ID-ctx: 0A0B\nTLS session ticket lifetime hint: 300 (seconds)\n") == empty


def test_resumed_means_the_offered_secret_was_kept() -> None:
    offered = parse_session_text(TLS12_WITH_TICKET)
    assert session_resumed(offered, offered)
    # A ticket renewed during the resumption renames the session (SHA-256 of the new ticket), same secret.
    renewed = SessionDetails(session_id="AB" * 32, secret=offered.secret, has_ticket=True, ticket_lifetime_hint_s=300)
    assert session_resumed(offered, renewed)
    # A full handshake: a new secret, whatever the ID says.
    full = SessionDetails(
        session_id=offered.session_id, secret="CD" * 48, has_ticket=False, ticket_lifetime_hint_s=None
    )
    assert not session_resumed(offered, full)
    # A session without a secret cannot have been resumed, even by another session without one.
    nothing = parse_session_text(TLS13_BEFORE_TICKET)
    assert not session_resumed(nothing, nothing)


@pytest.mark.parametrize(
    ("issued", "attempted", "succeeded", "support"),
    [
        (True, 5, 5, ResumptionSupport.FULLY_SUPPORTED),
        (True, 5, 2, ResumptionSupport.PARTIALLY_SUPPORTED),
        (True, 5, 0, ResumptionSupport.NOT_SUPPORTED),
        (False, 0, 0, ResumptionSupport.NOT_SUPPORTED),
    ],
)
def test_verdicts(issued: bool, attempted: int, succeeded: int, support: ResumptionSupport) -> None:
    verdict = interpret_attempts(issued=issued, attempted=attempted, succeeded=succeeded, ticket_lifetime_hint_s=None)
    assert (verdict.support, verdict.attempted, verdict.succeeded) == (support, attempted, succeeded)


def test_early_data_request_names_the_host() -> None:
    assert early_data_request(ServerTarget(host="example.com")) == (
        b"HEAD / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
    )
    assert b"Host: 127.0.0.1:8443\r\n" in early_data_request(ServerTarget(host="127.0.0.1", port=8443))
    assert b"Host: [::1]:8443\r\n" in early_data_request(ServerTarget(host="::1", port=8443))


def test_check_options_are_validated() -> None:
    assert SessionResumptionCheck().attempts == DEFAULT_ATTEMPTS
    with pytest.raises(ValueError, match="attempts"):
        SessionResumptionCheck(attempts=0)


# -- real servers -----------------------------------------------------------------------------------------------

CHECKS: list[Check[Any]] = [SessionResumptionCheck(), EarlyDataCheck()]


@pytest.mark.realserver
@pytest.mark.anyio
async def test_gnutls_resumes_every_way_and_counts_its_connections(test_pki: TestPKI) -> None:
    with (
        start_gnutls_serv(GNUTLS_PRIORITY, test_pki.rsa_chain, test_pki.rsa_key) as server,
        CountingProxy(*server.address) as proxy,
    ):
        result = await scan_server(f"127.0.0.1:{proxy.port}", CHECKS)
    resumption = _completed(result, "session_resumption")
    assert resumption.result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(),
        ticket_resumption=_default_attempts(hint=GNUTLS_HINT_S),
        tls1_3_resumption=_default_attempts(hint=GNUTLS_HINT_S),
        tls1_3_max_early_data=0,
    )
    # Without --earlydata the tickets allow none: early data is skipped after the TLS 1.3 handshake it shares with
    # session resumption, which counts against whichever check made it.
    assert _skipped(result, "early_data") == "the server's TLS 1.3 ticket allows no early data"
    assert resumption.cost.connections + _connections(result, "early_data") == ALL_WAYS_CONNECTIONS
    assert proxy.total_connections == result.connections


@pytest.mark.realserver
@pytest.mark.anyio
async def test_gnutls_with_early_data_accepts_it(test_pki: TestPKI) -> None:
    early = ["--earlydata", "--maxearlydata", "16384", "--disable-client-cert"]
    with start_gnutls_serv(GNUTLS_PRIORITY, test_pki.rsa_chain, test_pki.rsa_key, extra_args=early) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", CHECKS)
    outcome = _completed(result, "early_data")
    assert outcome.result == EarlyDataResult(accepts_early_data=True, max_early_data=16384, session_resumed=True)
    resumption = _completed(result, "session_resumption")
    assert resumption.result.tls1_3_max_early_data == 16384
    # Beside the shared handshake, a ticket of the check's own (none other offers it) and the early data.
    assert resumption.cost.connections + outcome.cost.connections == ALL_WAYS_CONNECTIONS + 2
    # Both results are plain JSON that the generated schema describes.
    schema = json_schema([SessionResumptionResult, EarlyDataResult])
    server_schema = {"$ref": "#/$defs/ServerScanResult", "$defs": schema["$defs"]}
    jsonschema.Draft202012Validator(server_schema).validate(to_jsonable(result))


@pytest.mark.realserver
def test_early_data_is_rejected_when_the_ticket_is_not(test_pki: TestPKI) -> None:
    # Two servers with their own ticket keys: the second cannot resume the first's ticket, so it answers a full
    # handshake and discards the early data.
    early = ["--earlydata", "--maxearlydata", "16384", "--disable-client-cert"]
    request = early_data_request(ServerTarget(host="127.0.0.1"))
    with (
        start_gnutls_serv(GNUTLS_PRIORITY, test_pki.rsa_chain, test_pki.rsa_key, extra_args=early) as issuer,
        start_gnutls_serv(GNUTLS_PRIORITY, test_pki.rsa_chain, test_pki.rsa_key, extra_args=early) as stranger,
    ):
        with _connection(issuer.address) as sock:
            ticket = resumption_handshake(sock, TLSVersion.TLS1_3, None, None, True, TICKET_WAIT_S).session
        assert ticket.max_early_data == 16384
        with _connection(issuer.address) as sock:
            accepted = early_data_handshake(sock, None, ticket, request)
        with _connection(stranger.address) as sock:
            rejected = early_data_handshake(sock, None, ticket, request)
    assert (accepted.resumed, accepted.accepted) == (True, True)
    assert (rejected.resumed, rejected.accepted) == (False, False)


@pytest.mark.realserver
@pytest.mark.anyio
async def test_gnutls_without_cache_or_tickets_resumes_nothing(test_pki: TestPKI) -> None:
    args = ["--nodb", "--noticket", "--disable-client-cert"]
    with start_gnutls_serv(GNUTLS_PRIORITY, test_pki.rsa_chain, test_pki.rsa_key, extra_args=args) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", CHECKS)
    resumption = _completed(result, "session_resumption")
    # It still hands out session IDs, but never resumes them.
    assert resumption.result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(0),
        ticket_resumption=NOTHING_ISSUED,
        tls1_3_resumption=NOTHING_ISSUED,
        tls1_3_max_early_data=None,
    )
    assert _skipped(result, "early_data") == f"the server sent no TLS 1.3 session ticket within {TICKET_WAIT_S:g} s"
    # The baseline, by ID a full handshake and the attempts, by ticket and under TLS 1.3 a full handshake each (the
    # latter shared with early data).
    both = resumption.cost.connections + _connections(result, "early_data")
    assert both == 1 + (1 + DEFAULT_ATTEMPTS) + 1 + 1


@pytest.mark.realserver
@pytest.mark.anyio
async def test_tickets_only_are_told_apart_from_session_ids(test_pki: TestPKI) -> None:
    # No session cache: the ticket test resumes, the session ID test does not, on the same server.
    args = ["--nodb", "--disable-client-cert"]
    with start_gnutls_serv(GNUTLS_PRIORITY, test_pki.rsa_chain, test_pki.rsa_key, extra_args=args) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [SessionResumptionCheck()])
    assert _completed(result, "session_resumption").result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(0),
        ticket_resumption=_default_attempts(hint=GNUTLS_HINT_S),
        tls1_3_resumption=_default_attempts(hint=GNUTLS_HINT_S),
        tls1_3_max_early_data=0,
    )


@pytest.mark.realserver
@pytest.mark.anyio
async def test_openssl_102_with_and_without_tickets(test_pki: TestPKI) -> None:
    with (
        start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key) as both,
        start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, tickets=False) as ids_only,
    ):
        both_result = await scan_server(f"127.0.0.1:{both.port}", CHECKS)
        ids_result = await scan_server(f"127.0.0.1:{ids_only.port}", [SessionResumptionCheck(attempts=3)])
    assert _completed(both_result, "session_resumption").result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(),
        ticket_resumption=_default_attempts(hint=OPENSSL_102_HINT_S),
        tls1_3_resumption=None,
        tls1_3_max_early_data=None,
    )
    assert _skipped(both_result, "early_data") == "the server does not speak TLS 1.3"
    ids = _completed(ids_result, "session_resumption")
    assert ids.result.session_id_resumption == interpret_attempts(
        issued=True, attempted=3, succeeded=3, ticket_lifetime_hint_s=None
    )
    assert ids.result.ticket_resumption == NOTHING_ISSUED
    assert ids.cost.connections == 1 + (1 + 3) + 1


@pytest.mark.realserver
@pytest.mark.anyio
async def test_ssl3_only_server_resumes_by_session_id(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, version="sslv3") as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [SessionResumptionCheck(attempts=2)])
    assert _completed(result, "session_resumption").result == SessionResumptionResult(
        tested_version=TLSVersion.SSL3,
        session_id_resumption=interpret_attempts(issued=True, attempted=2, succeeded=2, ticket_lifetime_hint_s=None),
        ticket_resumption=NOTHING_ISSUED,  # SSL 3.0 has no extensions, so no tickets
        tls1_3_resumption=None,
        tls1_3_max_early_data=None,
    )


@pytest.mark.realserver
@pytest.mark.anyio
async def test_python_ssl_server(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", CHECKS)
    assert _completed(result, "session_resumption").result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(),
        ticket_resumption=_default_attempts(hint=OPENSSL_3_HINT_S),
        tls1_3_resumption=_default_attempts(hint=OPENSSL_3_HINT_S),
        tls1_3_max_early_data=0,
    )
    assert _skipped(result, "early_data") == "the server's TLS 1.3 ticket allows no early data"


@pytest.mark.realserver
@pytest.mark.anyio
async def test_python_ssl_server_without_tickets(test_pki: TestPKI) -> None:
    server = LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key)
    server.context.options |= ssl.OP_NO_TICKET
    server.context.num_tickets = 0  # and no TLS 1.3 NewSessionTicket either
    with server:
        result = await scan_server(f"127.0.0.1:{server.port}", [SessionResumptionCheck()])
    assert _completed(result, "session_resumption").result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(),
        ticket_resumption=NOTHING_ISSUED,
        tls1_3_resumption=NOTHING_ISSUED,
        tls1_3_max_early_data=None,
    )


@pytest.mark.realserver
@pytest.mark.anyio
async def test_tls13_only_server_skips_the_older_ways(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_3
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [SessionResumptionCheck(attempts=3)])
    outcome = _completed(result, "session_resumption")
    assert outcome.result == SessionResumptionResult(
        tested_version=None,
        session_id_resumption=None,
        ticket_resumption=None,
        tls1_3_resumption=interpret_attempts(
            issued=True, attempted=3, succeeded=3, ticket_lifetime_hint_s=OPENSSL_3_HINT_S
        ),
        tls1_3_max_early_data=0,
    )
    # The baseline hello that found no TLS <= 1.2 costs one hello per version it tried (4), then 1 + 3.
    assert outcome.cost.connections == 4 + 1 + 3


@pytest.mark.realserver
@pytest.mark.anyio
async def test_openssl_s_server_keeps_sessions_of_clients_that_close_cleanly(test_pki: TestPKI) -> None:
    # s_server drops a cached session when its connection ends without close_notify; tlsprobe sends one.
    with start_openssl_s_server(["-no_ticket"], test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [SessionResumptionCheck()])
    assert _completed(result, "session_resumption").result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(),
        ticket_resumption=NOTHING_ISSUED,
        # -no_ticket makes OpenSSL 3 keep TLS 1.3 tickets in its cache (stateful tickets), still resumable.
        tls1_3_resumption=_default_attempts(hint=OPENSSL_3_HINT_S),
        tls1_3_max_early_data=0,
    )


@pytest.mark.realserver
@pytest.mark.anyio
async def test_hand_built_resumptions_leave_the_session_cached(test_pki: TestPKI) -> None:
    # One connection at a time, every attempt offering the full handshake's session: s_server drops a session
    # whose resumption ends in an error (a bare FIN), so without the close_notify behind each hello only the
    # first attempt would resume.
    one_at_a_time = ScanConfig(limits=Limits(max_connections_per_server=1))
    with start_openssl_s_server(["-no_ticket", "-no_tls1_3"], test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(
            f"127.0.0.1:{server.port}", [SessionResumptionCheck(attempts=4)], config=one_at_a_time
        )
    outcome = _completed(result, "session_resumption")
    assert outcome.result.session_id_resumption == interpret_attempts(
        issued=True, attempted=4, succeeded=4, ticket_lifetime_hint_s=None
    )
    assert outcome.result.ticket_resumption == NOTHING_ISSUED
    # The baseline hello; by ID, the full handshake and the attempts; by ticket, a full handshake for nothing.
    assert outcome.cost.connections == 1 + (1 + 4) + 1


@pytest.mark.realserver
@pytest.mark.anyio
async def test_tlslite_resumes_nothing(test_pki: TestPKI) -> None:
    with start_tlslite_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", CHECKS)
    assert _completed(result, "session_resumption").result == SessionResumptionResult(
        tested_version=TLSVersion.TLS1_2,
        session_id_resumption=_default_attempts(0),
        ticket_resumption=NOTHING_ISSUED,
        tls1_3_resumption=NOTHING_ISSUED,
        tls1_3_max_early_data=None,
    )
    assert "no TLS 1.3 session ticket" in _skipped(result, "early_data")


@contextmanager
def _connection(address: tuple[str, int]) -> Iterator[socket.socket]:
    with socket.create_connection(address, timeout=5) as sock:
        yield sock


@pytest.mark.realserver
@pytest.mark.anyio
async def test_a_server_that_requires_a_client_certificate_fails_both_at_no_cost(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, client_auth="required", ca_file=test_pki.ca_cert
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", CHECKS)
    for name in ("session_resumption", "early_data"):
        outcome = result.outcome(name)
        assert isinstance(outcome, CheckFailed), outcome
        assert outcome.error.kind is ErrorKind.CLIENT_CERTIFICATE_REQUIRED
        assert outcome.cost.connections == 0
