"""ROBOT: is the server a Bleichenbacher oracle, telling apart RSA key exchanges by their PKCS#1 v1.5 padding?

How: five connections at the highest version from SSL 3.0 to TLS 1.2 the server accepts, each offering only RSA
key-exchange suites. On each, after the server's flight, the premaster secret is encrypted to the certificate's
RSA key with one padding variant (valid; wrong first two bytes; no 00 separator; a misplaced separator; a wrong
version inside), and sent with a ChangeCipherSpec and a Finished the client cannot compute. A server that is no
oracle answers all five alike. When the answers differ, the five are sent again (five more connections): answers
that change are reported as inconsistent rather than as an oracle. The oracle is *weak* when only the valid
block stands out (the three malformed paddings get the same answer), *strong* otherwise. Optionally
(``cke_only_round``) a second round sends the ClientKeyExchange alone, which reveals the oracle of some servers
but waits up to the read timeout on every server that is no oracle.
A server that refuses RSA key exchange gets ``rsa_key_exchange_not_supported`` for one connection.
References: Böck, Somorovsky, Young, "Return Of Bleichenbacher's Oracle Threat" (USENIX Security 2018),
CVE-2017-13099 and the vendor CVEs listed at robotattack.org, RFC 5246 §7.4.7.1, RFC 8017 §7.2.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar, Literal, final

import anyio
import attrs
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._conversation import Conversation
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, tls_hello
from tlsprobe.checks._tls12_baseline import converse_ahead, tls12_baseline
from tlsprobe.wire import (
    CHANGE_CIPHER_SPEC_PAYLOAD,
    AlertDescription,
    CipherSuite,
    ClientHelloSpec,
    ContentType,
    KeyExchange,
    encode_record,
)
from tlsprobe.wire._answers import HelloRejected
from tlsprobe.wire._random import nonce_bytes
from tlsprobe.wire._rsa_kex import PaddingVariant, padded_premaster, rsa_client_key_exchange, rsa_encrypt_block
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_code, suites_for_version

_FAKE_FINISHED_LENGTH = 48  # a multiple of every block size, and longer than any MAC plus explicit IV


class RobotVerdict(enum.Enum):
    """What the padding oracle test concluded."""

    strong_oracle = "strong_oracle"
    """Vulnerable, and the oracle answers on malformations: practical attacks are feasible."""
    weak_oracle = "weak_oracle"
    """Vulnerable, but only a fully valid block stands out: attacks need far more queries."""
    no_oracle = "no_oracle"
    """Every padding got the same answer."""
    rsa_key_exchange_not_supported = "rsa_key_exchange_not_supported"
    """The server refuses RSA key exchange, so there is nothing to attack."""
    inconsistent_results = "inconsistent_results"
    """The answers differed, but not the same way twice: no conclusion (load balancers, rate limits...)."""


@final
@attrs.frozen(kw_only=True)
class RobotResponse:
    """How the server answered one padding variant."""

    variant: PaddingVariant
    """The padding sent."""
    reaction: str
    """What the server did, e.g. ``alert bad_record_mac, fatal_alert`` or ``closed``."""
    confirmation: str | None
    """Its reaction the second time, when the test was repeated."""


@final
@attrs.frozen(kw_only=True)
class RobotResult:
    """The Bleichenbacher oracle test."""

    verdict: RobotVerdict
    """The conclusion."""
    tested_version: TLSVersion
    """The version the probes negotiated."""
    cipher_suite: CipherSuite | None
    """The RSA key-exchange suite the server chose (None when it has none)."""
    key_exchange_only: bool
    """The verdict comes from the round that sent the ClientKeyExchange alone."""
    responses: tuple[RobotResponse, ...]
    """The server's answer to each padding variant, in the round the verdict comes from."""


def interpret_robot(first: Mapping[PaddingVariant, str], second: Mapping[PaddingVariant, str] | None) -> RobotVerdict:
    """The verdict from the reactions to each variant, and from the repetition when the first round differed."""
    if len(set(first.values())) == 1:
        return RobotVerdict.no_oracle
    if second is None or any(second[variant] != reaction for variant, reaction in first.items()):
        return RobotVerdict.inconsistent_results
    malformed = {
        first[PaddingVariant.wrong_first_bytes],
        first[PaddingVariant.separator_misplaced],
        first[PaddingVariant.no_separator],
    }
    return RobotVerdict.weak_oracle if len(malformed) == 1 else RobotVerdict.strong_oracle


def _rsa_suite_codes(version: TLSVersion) -> list[int]:
    suites = [
        suite
        for suite in suites_for_version(version)
        if suite.key_exchange is KeyExchange.RSA and suite.authentication == "RSA" and not suite.is_export
    ]
    # Some servers are an oracle only with their GCM suites, so those are offered first.
    suites.sort(key=lambda suite: not suite.is_aead)
    return [suite.code for suite in suites[:MAX_HELLO_SUITES]]


def _rsa_key(certificates: tuple[bytes, ...]) -> RSAPublicKey:
    if not certificates:
        raise MalformedServerResponseError("server chose RSA key exchange but sent no certificate")
    key = x509.load_der_x509_certificate(certificates[0]).public_key()
    if not isinstance(key, RSAPublicKey):
        raise MalformedServerResponseError("server chose RSA key exchange with a certificate whose key is not RSA")
    return key


@attrs.frozen
class _Probe:
    variant: PaddingVariant
    finish: bool

    def records(self, key: RSAPublicNumbers, version: TLSVersion) -> bytes:
        """The ClientKeyExchange with this padding, encrypted to ``key``, and the rest of the client's flight."""
        block = padded_premaster(self.variant, (key.n.bit_length() + 7) // 8, version)
        record_version = version.wire_code
        flight = encode_record(
            ContentType.handshake,
            record_version,
            rsa_client_key_exchange(rsa_encrypt_block(block, key.n, key.e), version),
        )
        if self.finish:
            flight += encode_record(ContentType.change_cipher_spec, record_version, CHANGE_CIPHER_SPEC_PAYLOAD)
            flight += encode_record(ContentType.handshake, record_version, nonce_bytes(_FAKE_FINISHED_LENGTH))
        return flight

    async def __call__(self, conversation: Conversation) -> tuple[str, int]:
        """After the server's flight: send the records for the key and version it shows, read the reaction."""
        accepted = conversation.accepted
        await conversation.send(self.records(_rsa_key(accepted.certificates).public_numbers(), accepted.version))
        return (await conversation.reaction()).summary(), accepted.cipher_suite

    def ahead(self, key: RSAPublicNumbers, version: TLSVersion) -> Callable[[Conversation], Awaitable[_Answer]]:
        """For records sent right behind the hello, made for ``key`` and ``version``: read the reaction, unless
        the flight shows another key or version (None), for which they were wrong."""

        async def read_if_as_sent(conversation: Conversation) -> _Answer:
            accepted = conversation.accepted
            certificates = accepted.certificates
            if accepted.version is not version or not certificates or _rsa_numbers(certificates[0]) != key:
                return None
            return (await conversation.reaction()).summary(), accepted.cipher_suite

        return read_if_as_sent


_Answer = tuple[str, int] | None  # a reaction's summary and the suite, or None: sent for the wrong key or version


def _rsa_numbers(certificate: bytes) -> RSAPublicNumbers | None:
    try:
        key = x509.load_der_x509_certificate(certificate).public_key()
    except ValueError:
        return None
    return key.public_numbers() if isinstance(key, RSAPublicKey) else None


@final
@attrs.frozen(kw_only=True)
class RobotCheck:
    """ROBOT: Bleichenbacher's padding oracle on RSA key exchange."""

    result_type: ClassVar[type] = RobotResult
    probes_in_sequence: ClassVar[bool] = True  # the four malformed paddings wait for the valid one

    cke_only_round: bool = False
    """When the full round shows no oracle, also try with the ClientKeyExchange alone (slow on clean servers)."""

    @property
    def name(self) -> str:
        """``robot``."""
        return "robot"

    async def run(self, server: ServerContext) -> RobotResult:
        """Send the five paddings, repeat when the answers differ, and conclude."""
        baseline = await tls12_baseline(server)
        version = baseline.version
        codes = _rsa_suite_codes(version)
        # The baseline's certificate, when RSA, is most likely the one RSA key exchange uses (a server with one
        # RSA certificate): the paddings can then be encrypted before the server's flight comes.
        known_key = _rsa_numbers(baseline.certificates[0]) if baseline.certificates else None
        rounds = (True, False) if self.cke_only_round else (True,)
        result: RobotResult | None = None
        for finish in rounds:
            first = await self._round(server, version, codes, finish, known_key)
            if first is None:
                return RobotResult(
                    verdict=RobotVerdict.rsa_key_exchange_not_supported,
                    tested_version=version,
                    cipher_suite=None,
                    key_exchange_only=False,
                    responses=(),
                )
            reactions, suite_code = first
            second = None
            if len(set(reactions.values())) > 1:
                repeated = await self._round(server, version, codes, finish, known_key)
                second = repeated[0] if repeated is not None else None
            result = RobotResult(
                verdict=interpret_robot(reactions, second),
                tested_version=version,
                cipher_suite=cipher_suite_by_code(suite_code),
                key_exchange_only=not finish,
                responses=tuple(
                    RobotResponse(
                        variant=variant,
                        reaction=reaction,
                        confirmation=None if second is None else second.get(variant),
                    )
                    for variant, reaction in reactions.items()
                ),
            )
            if result.verdict is not RobotVerdict.no_oracle:
                break
        assert result is not None
        return result

    @staticmethod
    async def _round(
        server: ServerContext, version: TLSVersion, codes: list[int], finish: bool, known_key: RSAPublicNumbers | None
    ) -> tuple[dict[PaddingVariant, str], int] | None:
        """The five paddings, each on its own connection (None when the server refuses RSA key exchange): the
        valid block first, then the four malformed ones at once (the server's permits bound them). With
        ``known_key`` each goes right behind its hello (``_pipelined_round``); without it, or when the server
        then shows another key or answers them out of order, each goes after the server's flight. A round is
        made one way or the other, never both: a server might react to records sent early otherwise than to
        records sent after its flight, which must not read as an oracle."""
        spec = tls_hello(version, codes, server.profile.server_name)
        if known_key is not None:
            pipelined = await _pipelined_round(server, spec, finish, known_key)
            if pipelined != "not as sent":
                return pipelined
        valid = await server.converse(spec, _Probe(PaddingVariant.valid, finish))
        if isinstance(valid, HelloRejected):
            return None
        reactions, suite_code = {PaddingVariant.valid: valid[0]}, valid[1]

        async def send(variant: PaddingVariant) -> None:
            answer = await server.converse(spec, _Probe(variant, finish))
            # A refusal now, after an acceptance, is one more answer that differs: the repetition sorts it out.
            reactions[variant] = f"hello refused: {answer.reason}" if isinstance(answer, HelloRejected) else answer[0]

        async with anyio.create_task_group() as group:
            for variant in PaddingVariant:
                if variant is not PaddingVariant.valid:
                    group.start_soon(send, variant)
        return {variant: reactions[variant] for variant in PaddingVariant}, suite_code


async def _pipelined_round(
    server: ServerContext, spec: ClientHelloSpec, finish: bool, key: RSAPublicNumbers
) -> tuple[dict[PaddingVariant, str], int] | Literal["not as sent"] | None:
    """The valid block, then the four malformed ones at once, each sent right behind its hello, encrypted to
    ``key``: a server reads them once its flight is out, where it would have after waiting for that flight, so
    each connection saves a round trip. None when the server refuses RSA key exchange (the valid block's hello
    alone tells); "not as sent" when a flight showed another key or version, or could not be read because the
    server answered the records out of order (before or inside it, ``converse_ahead``), or a hello was refused
    in a way records sent early might have caused (any hello after the first; the first with
    unexpected_message): the round must then be made again the usual way."""

    async def send(variant: PaddingVariant) -> _Answer | HelloRejected:
        probe = _Probe(variant, finish)
        return await converse_ahead(server, spec, probe.ahead(key, spec.version), probe.records(key, spec.version))

    valid = await send(PaddingVariant.valid)
    if isinstance(valid, HelloRejected):
        # unexpected_message refuses no suite: it says records came where the server expected none, ours.
        early = valid.alert is not None and valid.alert.description == AlertDescription.unexpected_message
        return "not as sent" if early else None
    if valid is None:
        return "not as sent"
    answers: dict[PaddingVariant, _Answer | HelloRejected] = {PaddingVariant.valid: valid}

    async def send_malformed(variant: PaddingVariant) -> None:
        answers[variant] = await send(variant)

    async with anyio.create_task_group() as group:
        for variant in PaddingVariant:
            if variant is not PaddingVariant.valid:
                group.start_soon(send_malformed, variant)
    reactions: dict[PaddingVariant, str] = {}
    for variant in PaddingVariant:
        answer = answers[variant]
        if answer is None or isinstance(answer, HelloRejected):
            return "not as sent"
        reactions[variant] = answer[0]
    return reactions, valid[1]
