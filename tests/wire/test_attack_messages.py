"""The byte-level probes' messages: heartbeat requests and the PKCS#1 v1.5 blocks of the ROBOT test."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tlsprobe.checks import PaddingVariant, RobotVerdict
from tlsprobe.checks.robot import interpret_robot
from tlsprobe.wire import TLSVersion
from tlsprobe.wire._heartbeat import HeartbeatMessageType, heartbeat_request, parse_heartbeat
from tlsprobe.wire._rsa_kex import PREMASTER_LENGTH, padded_premaster, rsa_client_key_exchange, rsa_encrypt_block


def test_heartbeat_request_declares_what_it_is_told_and_carries_padding() -> None:
    message = parse_heartbeat(heartbeat_request(b"0123456789abcdef", declared_length=0x4000))
    assert message.message_type == HeartbeatMessageType.heartbeat_request
    assert message.declared_length == 0x4000
    assert message.content[:16] == b"0123456789abcdef"
    assert len(message.content) == 16 + 16  # payload, then the minimum padding
    honest = parse_heartbeat(heartbeat_request(b"abc"))
    assert honest.declared_length == 3


def test_heartbeat_parsing_and_building_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="shorter than its header"):
        parse_heartbeat(b"\x02\x00")
    with pytest.raises(ValueError, match="two bytes"):
        heartbeat_request(b"", declared_length=0x10000)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_valid_block_decrypts_as_a_premaster_with_the_client_version(rsa_key: rsa.RSAPrivateKey) -> None:
    numbers = rsa_key.public_key().public_numbers()
    block = padded_premaster(PaddingVariant.valid, 256, TLSVersion.TLS1_2)
    premaster = rsa_key.decrypt(rsa_encrypt_block(block, numbers.n, numbers.e), padding.PKCS1v15())
    assert len(premaster) == PREMASTER_LENGTH
    assert premaster[:2] == b"\x03\x03"


def _premaster_of(block: bytes) -> bytes | None:
    """What a strict PKCS#1 v1.5 parser finds in ``block``: None when the padding itself is bad."""
    separator = block.find(b"\x00", 2)
    if block[:2] != b"\x00\x02" or separator < 10:
        return None
    return block[separator + 1 :]


@pytest.mark.parametrize(
    ("variant", "expected_premaster_length"),
    [
        (PaddingVariant.wrong_first_bytes, None),
        (PaddingVariant.no_separator, None),
        (PaddingVariant.separator_misplaced, 2),
    ],
)
def test_malformed_blocks_survive_raw_rsa_and_are_malformed_as_named(
    rsa_key: rsa.RSAPrivateKey, variant: PaddingVariant, expected_premaster_length: int | None
) -> None:
    public = rsa_key.public_key().public_numbers()
    block = padded_premaster(variant, 256, TLSVersion.TLS1_2)
    ciphertext = rsa_encrypt_block(block, public.n, public.e)
    # Raw decryption (cryptography's PKCS#1 decryption hides bad padding behind implicit rejection).
    decrypted = pow(int.from_bytes(ciphertext, "big"), rsa_key.private_numbers().d, public.n).to_bytes(256, "big")
    assert decrypted == block
    premaster = _premaster_of(block)
    assert (None if premaster is None else len(premaster)) == expected_premaster_length


def test_wrong_version_block_is_well_padded_but_names_another_version(rsa_key: rsa.RSAPrivateKey) -> None:
    numbers = rsa_key.public_key().public_numbers()
    block = padded_premaster(PaddingVariant.wrong_version, 256, TLSVersion.TLS1_2)
    premaster = rsa_key.decrypt(rsa_encrypt_block(block, numbers.n, numbers.e), padding.PKCS1v15())
    assert len(premaster) == PREMASTER_LENGTH
    assert premaster[:2] == b"\x02\x02"


def test_client_key_exchange_has_a_length_except_in_ssl3() -> None:
    tls = rsa_client_key_exchange(b"\xaa" * 256, TLSVersion.TLS1_2)
    assert tls[:4] == b"\x10\x00\x01\x02" and tls[4:6] == b"\x01\x00" and len(tls) == 4 + 2 + 256
    ssl3 = rsa_client_key_exchange(b"\xaa" * 256, TLSVersion.SSL3)
    assert ssl3[:4] == b"\x10\x00\x01\x00" and len(ssl3) == 4 + 256


def test_too_small_a_modulus_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        padded_premaster(PaddingVariant.valid, 32, TLSVersion.TLS1_2)


def _reactions(**overrides: str) -> dict[PaddingVariant, str]:
    reactions = dict.fromkeys(PaddingVariant, "alert bad_record_mac, fatal_alert")
    reactions.update({PaddingVariant(name): value for name, value in overrides.items()})
    return reactions


def test_robot_verdicts() -> None:
    same = _reactions()
    assert interpret_robot(same, None) is RobotVerdict.no_oracle
    weak = _reactions(wrong_first_bytes="closed", separator_misplaced="closed", no_separator="closed")
    assert interpret_robot(weak, weak) is RobotVerdict.weak_oracle
    strong = _reactions(wrong_first_bytes="alert handshake_failure, fatal_alert", separator_misplaced="closed")
    assert interpret_robot(strong, strong) is RobotVerdict.strong_oracle
    assert interpret_robot(strong, _reactions(wrong_first_bytes="closed")) is RobotVerdict.inconsistent_results
    assert interpret_robot(strong, None) is RobotVerdict.inconsistent_results
