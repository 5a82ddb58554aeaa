"""EV status: the leaf's policy OIDs against the EV data of its verified root."""

from __future__ import annotations

import datetime
import warnings

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from tlsprobe._model._json import to_jsonable
from tlsprobe.trust._ev import CA_BROWSER_FORUM_EV_OID, EV_POLICY_OIDS, EV_ROOTS, EVRoot, EVStatus, ev_status

DIGICERT_EV_OID = "2.16.840.1.114412.2.1"
SECTIGO_EV_OID = "1.3.6.1.4.1.6449.1.2.1.5.1"
CABF_DV_OID = "2.23.140.1.2.1"
DIGICERT_GLOBAL_ROOT_G2 = bytes.fromhex("CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F")
NOW = datetime.datetime.now(datetime.UTC)


def _certificate(subject: str, *policy_oids: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=1))
    )
    if policy_oids:
        policies = [x509.PolicyInformation(x509.ObjectIdentifier(oid), None) for oid in policy_oids]
        builder = builder.add_extension(x509.CertificatePolicies(policies), critical=False)
    return builder.sign(key, hashes.SHA256())


@pytest.fixture(scope="module")
def root() -> x509.Certificate:
    return _certificate("EV test root")


def _enabled(root: x509.Certificate, oid: str) -> tuple[EVRoot, ...]:
    return (EVRoot(name="EV test root", sha256_fingerprint=root.fingerprint(hashes.SHA256()), policy_oid=oid),)


def test_cab_forum_oid_under_an_ev_enabled_root_is_ev(root: x509.Certificate) -> None:
    leaf = _certificate("ev.test", CABF_DV_OID, CA_BROWSER_FORUM_EV_OID)
    # The root is enabled for a CA-specific OID only: Mozilla accepts the CA/B Forum OID under every EV root.
    assert ev_status(leaf, root, True, ev_roots=_enabled(root, SECTIGO_EV_OID)) == EVStatus(
        is_ev=True,
        matched_oid=CA_BROWSER_FORUM_EV_OID,
        ev_policy_oids=(CA_BROWSER_FORUM_EV_OID,),
        reason="EV policy 2.23.140.1.1 under the EV-enabled root 'CN=EV test root'",
    )


def test_ca_specific_oid_is_ev_only_under_the_roots_enabled_for_it(root: x509.Certificate) -> None:
    leaf = _certificate("ev.test", DIGICERT_EV_OID)
    assert ev_status(leaf, root, True, ev_roots=_enabled(root, DIGICERT_EV_OID)).matched_oid == DIGICERT_EV_OID
    elsewhere = EVRoot(name="another root", sha256_fingerprint=b"\x00" * 32, policy_oid=DIGICERT_EV_OID)
    other = ev_status(leaf, root, True, ev_roots=(*_enabled(root, SECTIGO_EV_OID), elsewhere))
    assert (other.is_ev, other.matched_oid, other.ev_policy_oids, other.reason) == (
        False,
        None,
        (DIGICERT_EV_OID,),
        f"the root 'CN=EV test root' is not enabled for {DIGICERT_EV_OID}",
    )


@pytest.mark.parametrize(
    ("verified", "mozilla", "oids", "reason"),
    [
        (True, True, (), "the leaf asserts no EV policy OID"),
        (True, True, (CABF_DV_OID,), "the leaf asserts no EV policy OID"),
        (False, True, (CA_BROWSER_FORUM_EV_OID,), "the chain was not verified to a trusted root"),
        (True, False, (CA_BROWSER_FORUM_EV_OID,), "the verified root is not in the Mozilla trust store"),
    ],
)
def test_not_ev(root: x509.Certificate, verified: bool, mozilla: bool, oids: tuple[str, ...], reason: str) -> None:
    leaf = _certificate("dv.test", *oids)
    status = ev_status(leaf, root if verified else None, mozilla, ev_roots=_enabled(root, CA_BROWSER_FORUM_EV_OID))
    assert (status.is_ev, status.matched_oid, status.reason) == (False, None, reason)


def test_a_root_missing_from_the_ev_data_grants_nothing(root: x509.Certificate) -> None:
    leaf = _certificate("ev.test", CA_BROWSER_FORUM_EV_OID)
    status = ev_status(leaf, root, True)  # the built-in data: a test root is in no EV list
    assert (status.is_ev, status.ev_policy_oids, status.reason) == (
        False,
        (CA_BROWSER_FORUM_EV_OID,),
        "the root 'CN=EV test root' is not enabled for EV",
    )


def test_built_in_data_recognises_a_real_mozilla_ev_root() -> None:
    with warnings.catch_warnings():  # one Mozilla root has a non-positive serial number, which cryptography flags
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        bundle = x509.load_pem_x509_certificates(certifi.contents().encode("ascii"))
    (digicert,) = [cert for cert in bundle if cert.fingerprint(hashes.SHA256()) == DIGICERT_GLOBAL_ROOT_G2]
    leaf = _certificate("ev.test", DIGICERT_EV_OID)  # not really issued by it: only the policy is compared
    status = ev_status(leaf, digicert, True)
    assert (status.is_ev, status.matched_oid) == (True, DIGICERT_EV_OID)


def test_ev_data_is_well_formed() -> None:
    assert len(EV_ROOTS) == len({(root.sha256_fingerprint, root.policy_oid) for root in EV_ROOTS})
    for root in EV_ROOTS:
        assert len(root.sha256_fingerprint) == 32, root.name
        assert x509.ObjectIdentifier(root.policy_oid).dotted_string == root.policy_oid
    assert {
        CA_BROWSER_FORUM_EV_OID,
        DIGICERT_EV_OID,
        SECTIGO_EV_OID,
        "2.16.840.1.114028.10.1.2",  # Entrust
        "1.3.6.1.4.1.4146.1.1",  # GlobalSign
    } <= EV_POLICY_OIDS


def test_status_converts_to_json(root: x509.Certificate) -> None:
    status = ev_status(_certificate("ev.test", CA_BROWSER_FORUM_EV_OID), root, True, ev_roots=_enabled(root, "1.2.3"))
    assert to_jsonable(status) == {
        "is_ev": True,
        "matched_oid": CA_BROWSER_FORUM_EV_OID,
        "ev_policy_oids": [CA_BROWSER_FORUM_EV_OID],
        "reason": "EV policy 2.23.140.1.1 under the EV-enabled root 'CN=EV test root'",
    }
