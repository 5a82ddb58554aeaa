"""Prove that every test server really speaks what it promises, with real clients over 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from cryptography import x509
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import OpenSslVerifyEnum, OpenSslVersionEnum

from tests.servers.processes import (
    RunningServer,
    start_nassl_server,
    start_openssl_s_server,
    start_tlslite_server,
)
from tlsprobe.testing import CountingProxy, LocalTLSServer, TestPKI, generate_test_pki

pytestmark = [pytest.mark.realserver, pytest.mark.timeout(60)]

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


# -- clients ---------------------------------------------------------------------------------------


def client_context(pki: TestPKI, *, client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    if client_cert:
        context.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    return context


def tls1_0_client_context(pki: TestPKI, *, exact: bool) -> ssl.SSLContext:
    """A client that allows TLS 1.0 (``exact``: only TLS 1.0) at OpenSSL security level 0."""
    context = client_context(pki)
    context.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 on purpose
        context.minimum_version = ssl.TLSVersion.TLSv1
        if exact:
            context.maximum_version = ssl.TLSVersion.TLSv1
    return context


def https_get(
    address: tuple[str, int], context: ssl.SSLContext, server_hostname: str = "localhost"
) -> tuple[str | None, str, bytes]:
    """One TLS connection with Python's ssl: ``(version, cipher name, whole response)``."""
    with (
        socket.create_connection(address, timeout=5) as sock,
        context.wrap_socket(sock, server_hostname=server_hostname) as tls,
    ):
        tls.sendall(REQUEST)
        response = b""
        while chunk := tls.recv(4096):
            response += chunk
        cipher = tls.cipher()
        assert cipher is not None
        return tls.version(), cipher[0], response


def nassl_legacy_get(
    port: int, version: OpenSslVersionEnum, cipher_list: str | None = None
) -> tuple[str, str | None, bytes]:
    """One connection with nassl's OpenSSL 1.0.2 client: ``(cipher name, compression, start of response)``."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        client = LegacySslClient(ssl_version=version, underlying_socket=sock, ssl_verify=OpenSslVerifyEnum.NONE)
        if cipher_list is not None:
            client.set_cipher_list(cipher_list)
        try:
            client.do_handshake()
            client.write(REQUEST)
            response = b""
            while len(response) < 15:  # TLS 1.0 CBC records are split 1/n-1
                response += client.read(4096)
            return client.get_current_cipher_name(), client.get_current_compression_method(), response
        finally:
            client.shutdown()


def assert_served(server: RunningServer, response: bytes, expected: bytes = b"HTTP/1.1 200") -> None:
    assert response.startswith(expected), f"unexpected response {response[:80]!r}; server said:\n{server.output()}"


# -- the PKI ---------------------------------------------------------------------------------------


def test_generate_test_pki_is_fast_and_complete(tmp_path: Path, test_pki: TestPKI) -> None:
    started = time.perf_counter()
    pki = generate_test_pki(tmp_path)
    assert time.perf_counter() - started < 1.0  # about 0.1 s; generous against noisy CI machines
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    for leaf_path in (pki.rsa_cert, pki.ecdsa_cert):
        leaf = x509.load_pem_x509_certificate(leaf_path.read_bytes())
        leaf.verify_directly_issued_by(ca)
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
        assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    chain = x509.load_pem_x509_certificates(pki.rsa_chain.read_bytes())
    assert [c.subject for c in chain] == [
        x509.load_pem_x509_certificate(pki.rsa_cert.read_bytes()).subject,
        ca.subject,
    ]
    x509.load_pem_x509_certificate(pki.client_cert.read_bytes()).verify_directly_issued_by(ca)


# -- LocalTLSServer (Python ssl, system OpenSSL) ---------------------------------------------------


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_local_server_handshakes(test_pki: TestPKI, version: ssl.TLSVersion) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=version,
        maximum_version=version,
    ) as server:
        negotiated, _cipher, response = https_get(server.address, client_context(test_pki))
        assert negotiated == version.name.replace("v1_", "v1.")
        assert response.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\nStrict-Transport-Security: max-age=31536000" in response
        assert server.accepted_connections == 1


def test_local_server_ipv6_ecdsa(test_pki: TestPKI) -> None:
    try:
        server = LocalTLSServer(certfile=test_pki.ecdsa_chain, keyfile=test_pki.ecdsa_key, host="::1").start()
    except OSError as error:
        pytest.skip(f"no IPv6 loopback: {error}")
    with server:
        assert server.url == f"https://[::1]:{server.port}/"
        _version, cipher, _response = https_get(server.address, client_context(test_pki), "::1")
        assert "ECDSA" in cipher or cipher.startswith("TLS_")


def test_local_server_tls1_0_at_seclevel_0(test_pki: TestPKI) -> None:
    try:
        server = LocalTLSServer(
            certfile=test_pki.rsa_chain,
            keyfile=test_pki.rsa_key,
            ciphers="ALL:@SECLEVEL=0",
            minimum_version=ssl.TLSVersion.TLSv1,
            maximum_version=ssl.TLSVersion.TLSv1,
        ).start()
    except ssl.SSLError as error:
        pytest.skip(f"the system OpenSSL refuses TLS 1.0: {error}")
    with server:
        context = tls1_0_client_context(test_pki, exact=False)
        try:
            version, _cipher, response = https_get(server.address, context)
        except ssl.SSLError as error:
            pytest.skip(f"the system OpenSSL client refuses TLS 1.0: {error}")
        assert version == "TLSv1"
        assert response.startswith(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_local_server_requires_client_cert(test_pki: TestPKI, version: ssl.TLSVersion) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        client_auth="required",
        ca_file=test_pki.ca_cert,
        maximum_version=version,
    ) as server:
        # TLS 1.2 fails in the handshake, TLS 1.3 on the first read after it.
        with pytest.raises(ssl.SSLError, match=r"(?i)certificate|handshake"):
            https_get(server.address, client_context(test_pki))
        _version, _cipher, response = https_get(server.address, client_context(test_pki, client_cert=True))
        assert response.startswith(b"HTTP/1.1 200 OK")
        assert (server.failed_handshakes, server.completed_handshakes) == (1, 1)


@pytest.mark.parametrize(("server_preference", "expected"), [(True, "AES128-GCM-SHA256"), (False, "AES256-GCM-SHA384")])
def test_local_server_cipher_preference(test_pki: TestPKI, server_preference: bool, expected: str) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        maximum_version=ssl.TLSVersion.TLSv1_2,
        ciphers="AES128-GCM-SHA256:AES256-GCM-SHA384",
        server_preference=server_preference,
    ) as server:
        context = client_context(test_pki)
        context.set_ciphers("AES256-GCM-SHA384:AES128-GCM-SHA256")
        assert https_get(server.address, context)[1] == expected


def test_local_server_stop_closes_idle_connections(test_pki: TestPKI) -> None:
    server = LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key).start()
    with ExitStack() as stack:
        idle = [stack.enter_context(socket.create_connection(server.address, timeout=5)) for _ in range(3)]
        deadline = time.monotonic() + 2
        while server.current_connections < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.current_connections == 3
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2.5
        assert server.current_connections == 0
        assert all(sock.recv(10) == b"" for sock in idle)  # the server hung up
    assert not [t for t in threading.enumerate() if t.name.startswith("LocalTLSServer")]


# -- nassl: OpenSSL 1.0.2e / 1.1.1w as a server ----------------------------------------------------


@pytest.fixture(scope="module")
def nassl_legacy_server(test_pki: TestPKI) -> Iterator[RunningServer]:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, legacy=True) as server:
        yield server


@pytest.mark.parametrize(
    ("version", "cipher_list", "expected_cipher", "expected_compression"),
    [
        (OpenSslVersionEnum.SSLV2, "SSLv2", None, None),
        (OpenSslVersionEnum.SSLV3, "RC4-MD5", "RC4-MD5", "zlib compression"),
        (OpenSslVersionEnum.TLSV1_2, "DES-CBC3-SHA", "DES-CBC3-SHA", "zlib compression"),
        (OpenSslVersionEnum.TLSV1_2, "DHE-RSA-AES128-SHA", "DHE-RSA-AES128-SHA", "zlib compression"),
        (OpenSslVersionEnum.TLSV1, "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "zlib compression"),
    ],
    ids=["sslv2", "sslv3-rc4", "tls12-3des", "tls12-dhe", "tls10-ecdhe"],
)
def test_nassl_legacy_server(
    nassl_legacy_server: RunningServer,
    version: OpenSslVersionEnum,
    cipher_list: str,
    expected_cipher: str | None,
    expected_compression: str | None,
) -> None:
    cipher, compression, response = nassl_legacy_get(nassl_legacy_server.port, version, cipher_list)
    assert_served(nassl_legacy_server, response)
    if expected_cipher is None:  # SSLv2: whichever SSLv2 kind the client listed first
        assert cipher.endswith("-MD5")
    else:
        assert cipher == expected_cipher
    assert compression == expected_compression


def test_nassl_legacy_sslv2_only(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, version="sslv2") as server:
        cipher, _compression, response = nassl_legacy_get(server.port, OpenSslVersionEnum.SSLV2, "SSLv2")
        assert_served(server, response)
        assert cipher.endswith("-MD5")
        with pytest.raises(OSError, match="did not send data back"):
            nassl_legacy_get(server.port, OpenSslVersionEnum.TLSV1_2)


def test_nassl_modern_tls13_client_auth_required(test_pki: TestPKI) -> None:
    with start_nassl_server(
        cert=test_pki.rsa_chain, key=test_pki.rsa_key, legacy=False, verify="required", ca=test_pki.ca_cert
    ) as server:
        version, _cipher, response = https_get(server.address, client_context(test_pki, client_cert=True))
        assert version == "TLSv1.3"
        assert_served(server, response)
        with pytest.raises(ssl.SSLError, match=r"(?i)certificate required"):
            https_get(server.address, client_context(test_pki))


# -- tlslite-ng ------------------------------------------------------------------------------------


def test_tlslite_server_sslv3_and_tls12_with_3des(test_pki: TestPKI) -> None:
    with start_tlslite_server(
        cert=test_pki.rsa_chain,
        key=test_pki.rsa_key,
        min_version="ssl3",
        max_version="tls1.2",
        ciphers=["3des"],
    ) as server:
        for version in (OpenSslVersionEnum.SSLV3, OpenSslVersionEnum.TLSV1_2):
            cipher, _compression, response = nassl_legacy_get(server.port, version, "DES-CBC3-SHA")
            assert cipher == "DES-CBC3-SHA"
            assert_served(server, response)


def test_tlslite_server_tls13(test_pki: TestPKI) -> None:
    with start_tlslite_server(
        cert=test_pki.ecdsa_chain, key=test_pki.ecdsa_key, min_version="tls1.2", max_version="tls1.3"
    ) as server:
        version, _cipher, response = https_get(server.address, client_context(test_pki))
        assert version == "TLSv1.3"
        assert_served(server, response)


# -- Debian's openssl s_server ---------------------------------------------------------------------


def test_openssl_s_server_tls10_cbc_only(test_pki: TestPKI) -> None:
    cbc_only = "ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA:@SECLEVEL=0"
    with start_openssl_s_server(
        ["-cipher", cbc_only, "-min_protocol", "TLSv1", "-max_protocol", "TLSv1.2"],
        test_pki.rsa_chain,
        test_pki.rsa_key,
    ) as server:
        context = tls1_0_client_context(test_pki, exact=True)
        try:
            version, cipher, response = https_get(server.address, context)
        except ssl.SSLError as error:
            pytest.skip(f"the system OpenSSL client refuses TLS 1.0: {error}\n{server.output()}")
        assert version == "TLSv1"
        assert cipher in cbc_only.split(":")
        assert_served(server, response, b"HTTP/1.0 200 ok")
        gcm_only = client_context(test_pki)
        gcm_only.set_ciphers("AESGCM")
        gcm_only.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(ssl.SSLError, match=r"(?i)handshake failure|no shared cipher"):
            https_get(server.address, gcm_only)


# -- CountingProxy ---------------------------------------------------------------------------------


def _open_tls_connections(
    address: tuple[str, int], context: ssl.SSLContext, count: int, stack: ExitStack
) -> list[ssl.SSLSocket | BaseException]:
    """Open ``count`` TLS connections in parallel threads and keep the successful ones open in ``stack``."""
    results: list[ssl.SSLSocket | BaseException] = [ValueError("not run")] * count
    lock = threading.Lock()
    collected = False

    def connect(index: int) -> None:
        try:
            sock = socket.create_connection(address, timeout=5)
            try:
                tls = context.wrap_socket(sock, server_hostname="localhost")
            except BaseException:
                sock.close()
                raise
        except (OSError, ValueError) as error:
            results[index] = error
            return
        with lock:
            if collected:  # finished after the caller stopped waiting: nobody else will close it
                tls.close()
                return
            results[index] = tls

    threads = [threading.Thread(target=connect, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    with lock:
        collected = True
        for result in results:
            if isinstance(result, ssl.SSLSocket):
                stack.enter_context(result)
    return results


def test_counting_proxy_counts_parallel_connections(test_pki: TestPKI) -> None:
    with (
        # The server waits up to a second for a request, so it holds each connection open meanwhile:
        # the proxy counts a connection until the server is done with it.
        LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, http_response=True) as server,
        CountingProxy(*server.address) as proxy,
        ExitStack() as stack,
    ):
        results = _open_tls_connections(proxy.address, client_context(test_pki), 7, stack)
        assert all(isinstance(result, ssl.SSLSocket) for result in results), results
        assert (proxy.max_concurrent_connections, proxy.total_connections) == (7, 7)
        assert proxy.current_connections == 7
        stack.close()
        deadline = time.monotonic() + 2
        while proxy.current_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proxy.current_connections == 0
        assert proxy.refused_connections == 0
    assert not [t for t in threading.enumerate() if t.name.startswith(("CountingProxy", "LocalTLSServer"))]


def test_counting_proxy_refuses_beyond_limit(test_pki: TestPKI) -> None:
    with (
        # The server waits up to a second for a request, so it holds each connection open meanwhile:
        # the proxy counts a connection until the server is done with it.
        LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, http_response=True) as server,
        CountingProxy(*server.address, refuse_beyond=3) as proxy,
        ExitStack() as stack,
    ):
        held = _open_tls_connections(proxy.address, client_context(test_pki), 3, stack)
        assert all(isinstance(result, ssl.SSLSocket) for result in held), held
        rejected = _open_tls_connections(proxy.address, client_context(test_pki), 4, stack)
        assert all(isinstance(result, OSError) for result in rejected), rejected
        assert (proxy.total_connections, proxy.refused_connections, proxy.max_concurrent_connections) == (
            3,
            4,
            3,
        )
        assert server.accepted_connections == 3
