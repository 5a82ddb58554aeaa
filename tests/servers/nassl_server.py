"""A real OpenSSL 1.0.2e or 1.1.1w TLS *server*, built from the extension modules of the nassl wheel.

Why: Debian's OpenSSL 3 can no longer serve SSL 2.0, SSL 3.0, RC4, 3DES, EXPORT suites or TLS compression,
and no other packaged server does either. nassl ships OpenSSL 1.0.2e (``nassl._nassl_legacy``) and 1.1.1w
(``nassl._nassl``) statically linked into two unstripped extension modules. nassl itself only exposes the
client side, so this script finds the few OpenSSL functions it needs in the ELF ``.symtab`` of the module,
calls them through ctypes on the ``SSL*``/``SSL_CTX*`` held by nassl's Python objects
(``SSL_set_accept_state`` turns the client into a server), and then drives OpenSSL's real server state machine
through nassl's BIO pair, exactly as nassl's client does. The handshakes the scanner sees therefore come
from genuine OpenSSL code.

Run it from the repository root::

    python -m tests.servers.nassl_server --legacy --port 0 --cert rsa.chain.pem --key rsa.key

It prints ``READY <port>`` once it listens on 127.0.0.1, then serves each connection in its own thread:
handshake, read a little, answer a tiny HTTP response, close. Every socket has a timeout. nassl never releases
the GIL while OpenSSL runs, and the ctypes calls below keep it too, so the threads never run OpenSSL
concurrently (OpenSSL 1.0.2 has no locking callbacks installed here).

If the wheel lacks a symbol (for example a stripped build), the script exits with ``SystemExit`` and a
message, which :func:`tests.servers.processes.start_nassl_server` turns into a pytest skip.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from nassl._nassl import OpenSSLError, WantReadError  # both flavours raise these

from tests.servers.sockets import lingering_close

# Constants from OpenSSL's ssl.h (identical in 1.0.2 and 1.1.1 unless noted).
SSL_CTRL_OPTIONS = 32  # 1.0.2 only; 1.1.1 has real SSL_CTX_set_options/SSL_CTX_clear_options functions
SSL_CTRL_CLEAR_OPTIONS = 77  # 1.0.2 only
SSL_CTRL_SET_TMP_DH = 3
SSL_CTRL_SET_ECDH_AUTO = 94  # 1.0.2 only; always on in 1.1.1
SSL_CTRL_SET_MIN_PROTO_VERSION = 123  # 1.1.1 only
SSL_CTRL_SET_MAX_PROTO_VERSION = 124  # 1.1.1 only
SSL_OP_NO_TICKET = 0x00004000
SSL_OP_NO_COMPRESSION = 0x00020000
SSL_OP_CIPHER_SERVER_PREFERENCE = 0x00400000
SSL_OP_NO_SSLv2 = 0x01000000  # 1.0.2 only (0 in 1.1.1)
SSL_OP_NO_SSLv3 = 0x02000000
SSL_VERIFY_NONE = 0
SSL_VERIFY_PEER = 1
SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 2
TLS1_3_VERSION = 0x0304

# nassl's OpenSslVersionEnum values, as accepted by its SSL_CTX constructor.
_VERSION_ARG = {"sslv23": 0, "sslv2": 1, "sslv3": 2, "tls1": 3, "tls1_1": 4, "tls1_2": 5}

#: Offset of the OpenSSL pointer in nassl's ``SSL`` and ``SSL_CTX`` objects: right after ``PyObject_HEAD``.
_NASSL_POINTER_OFFSET = 16

_SHT_SYMTAB = 2

_HTTP_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
_SOCKET_TIMEOUT_S = 5.0
_READ_REQUEST_TIMEOUT_S = 1.0


def read_elf_symbols(path: Path, wanted: Iterable[str]) -> dict[str, int]:
    """Return the ``st_value`` (offset from the load base) of each wanted symbol in the ELF64 ``.symtab``.

    Symbols absent from the table are absent from the result. Only little-endian ELF64 is supported.
    """
    wanted_names = {name.encode() for name in wanted}
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"nassl_server: {path} is not a little-endian ELF64 file")
    (e_shoff,) = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    found: dict[str, int] = {}
    for _name, sh_type, _flags, _addr, sh_offset, sh_size, sh_link, _info, _align, sh_entsize in sections:
        if sh_type != _SHT_SYMTAB:
            continue
        strtab_offset = sections[sh_link][4]
        for entry in range(sh_offset, sh_offset + sh_size, sh_entsize):
            st_name, _st_info, _st_other, _st_shndx, st_value, _st_size = struct.unpack_from("<IBBHQQ", data, entry)
            start = strtab_offset + st_name
            name = data[start : data.index(b"\x00", start)]
            if name in wanted_names and st_value:
                found[name.decode()] = st_value
    return found


class OpenSslFunctions:
    """ctypes entry points into the OpenSSL statically linked into one nassl extension module."""

    _COMMON = (
        "SSL_set_accept_state",
        "SSL_get_SSL_CTX",
        "SSL_CTX_ctrl",
        "SSL_CTX_set_session_id_context",
        "SSL_CTX_set_verify",
        "SSL_CTX_set_client_CA_list",
        "SSL_load_client_CA_file",
        "DH_get_2048_256",
        "DH_free",
    )
    _MODERN_ONLY = ("SSL_CTX_set_options", "SSL_CTX_clear_options")

    def __init__(self, *, legacy: bool) -> None:
        self.legacy = legacy
        self.module: ModuleType
        if legacy:
            from nassl import _nassl_legacy as module
        else:
            from nassl import _nassl as module  # type: ignore[no-redef]
        self.module = module
        so_path = Path(str(module.__file__))
        anchor = "PyInit_" + module.__name__.rsplit(".", 1)[1]
        wanted = (anchor, *self._COMMON, *(() if legacy else self._MODERN_ONLY))
        symbols = read_elf_symbols(so_path, wanted)
        missing = sorted(set(wanted) - set(symbols))
        if missing:
            raise SystemExit(f"nassl_server: symbols missing from {so_path.name}: {', '.join(missing)}")
        # dlopen() of an already loaded path returns the same handle; RTLD_NOLOAD makes sure of it.
        library = ctypes.CDLL(str(so_path), mode=os.RTLD_NOLOAD | os.RTLD_NOW)
        anchor_address = ctypes.cast(getattr(library, anchor), ctypes.c_void_p).value
        if anchor_address is None:
            raise SystemExit(f"nassl_server: cannot resolve {anchor}")
        base = anchor_address - symbols[anchor]

        def function(name: str, restype: Any, *argtypes: Any) -> Any:
            # PYFUNCTYPE keeps the GIL during the call, like nassl itself does.
            return ctypes.PYFUNCTYPE(restype, *argtypes)(base + symbols[name])

        vp, c_long, c_int, c_uint = ctypes.c_void_p, ctypes.c_long, ctypes.c_int, ctypes.c_uint
        self.SSL_set_accept_state = function("SSL_set_accept_state", None, vp)
        self.SSL_get_SSL_CTX = function("SSL_get_SSL_CTX", vp, vp)
        self.SSL_CTX_ctrl = function("SSL_CTX_ctrl", c_long, vp, c_int, c_long, vp)
        self.SSL_CTX_set_session_id_context = function(
            "SSL_CTX_set_session_id_context", c_int, vp, ctypes.c_char_p, c_uint
        )
        # The callback argument is a function pointer; None passes NULL (OpenSSL's default verification).
        self.SSL_CTX_set_verify = function("SSL_CTX_set_verify", None, vp, c_int, vp)
        self.SSL_CTX_set_client_CA_list = function("SSL_CTX_set_client_CA_list", None, vp, vp)
        self.SSL_load_client_CA_file = function("SSL_load_client_CA_file", vp, ctypes.c_char_p)
        self.DH_get_2048_256 = function("DH_get_2048_256", vp)
        self.DH_free = function("DH_free", None, vp)
        if not legacy:
            self.SSL_CTX_set_options = function("SSL_CTX_set_options", ctypes.c_ulong, vp, ctypes.c_ulong)
            self.SSL_CTX_clear_options = function("SSL_CTX_clear_options", ctypes.c_ulong, vp, ctypes.c_ulong)

    @staticmethod
    def pointer_of(nassl_object: object) -> int:
        """The ``SSL*`` or ``SSL_CTX*`` stored right after ``PyObject_HEAD`` in a nassl object."""
        value = ctypes.c_void_p.from_address(id(nassl_object) + _NASSL_POINTER_OFFSET).value
        if not value:
            raise SystemExit("nassl_server: NULL OpenSSL pointer in a nassl object")
        return value

    def set_options(self, ctx: int, options: int) -> None:
        if self.legacy:
            self.SSL_CTX_ctrl(ctx, SSL_CTRL_OPTIONS, options, None)
        else:
            self.SSL_CTX_set_options(ctx, options)

    def clear_options(self, ctx: int, options: int) -> None:
        if self.legacy:
            self.SSL_CTX_ctrl(ctx, SSL_CTRL_CLEAR_OPTIONS, options, None)
        else:
            self.SSL_CTX_clear_options(ctx, options)


def _first_pem_certificate(pem: str) -> str:
    end_marker = "-----END CERTIFICATE-----"
    end = pem.find(end_marker)
    if end < 0:
        raise SystemExit("nassl_server: no PEM certificate in --cert")
    return pem[pem.index("-----BEGIN CERTIFICATE-----") : end + len(end_marker)] + "\n"


class NasslServerContext:
    """An OpenSSL ``SSL_CTX`` configured for the server side, and a factory for server ``SSL`` objects."""

    def __init__(self, functions: OpenSslFunctions, options: argparse.Namespace) -> None:
        self.functions = functions
        module = functions.module
        version = options.version
        if version == "tls1_3" and functions.legacy:
            raise SystemExit("nassl_server: OpenSSL 1.0.2 has no TLS 1.3")
        if version in {"sslv2", "sslv3"} and not functions.legacy:
            raise SystemExit(f"nassl_server: nassl's OpenSSL 1.1.1 has no {version}; use --legacy")
        self.ctx = module.SSL_CTX(_VERSION_ARG.get(version, 0))
        ctx = functions.pointer_of(self.ctx)
        if version == "sslv2":
            # SSLv2 sends the leaf alone, and its SSL_CTX refuses the extra chain certificates.
            with tempfile.TemporaryDirectory() as scratch:
                leaf = Path(scratch) / "leaf.pem"
                leaf.write_text(_first_pem_certificate(options.cert.read_text()))
                self.ctx.use_certificate_chain_file(str(leaf))
        else:
            self.ctx.use_certificate_chain_file(str(options.cert))
        self.ctx.use_PrivateKey_file(str(options.key), 1)  # 1 = PEM
        self.ctx.check_private_key()
        if version == "tls1_3":
            functions.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_3_VERSION, None)
            functions.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_3_VERSION, None)

        # Old protocols are the point of this server: SSLv23_method() in 1.0.2e disables SSLv2 by default.
        functions.clear_options(ctx, SSL_OP_NO_SSLv3 | (SSL_OP_NO_SSLv2 if functions.legacy else 0))
        extra = 0
        if options.no_compression:
            extra |= SSL_OP_NO_COMPRESSION
        if options.no_tickets:
            extra |= SSL_OP_NO_TICKET
        if options.server_preference:
            extra |= SSL_OP_CIPHER_SERVER_PREFERENCE
        if extra:
            functions.set_options(ctx, extra)

        # DHE suites need DH parameters (RFC 5114 2048-bit group; the context keeps its own copy), ECDHE
        # suites need a curve: 1.0.2 picks one automatically only when asked to.
        dh = functions.DH_get_2048_256()
        if dh:
            functions.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TMP_DH, 0, dh)
            functions.DH_free(dh)
        if functions.legacy:
            functions.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_ECDH_AUTO, 1, None)
        session_id_context = b"tlsprobe-nassl-server"
        functions.SSL_CTX_set_session_id_context(ctx, session_id_context, len(session_id_context))

        verify = {
            "none": SSL_VERIFY_NONE,
            "optional": SSL_VERIFY_PEER,
            "required": SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
        }[options.verify]
        if verify != SSL_VERIFY_NONE:
            if options.ca is None:
                raise SystemExit("nassl_server: --verify optional/required needs --ca")
            self.ctx.load_verify_locations(str(options.ca))
            ca_names = functions.SSL_load_client_CA_file(str(options.ca).encode())
            if ca_names:
                functions.SSL_CTX_set_client_CA_list(ctx, ca_names)  # takes ownership
        # nassl's own set_verify() refuses PEER|FAIL_IF_NO_PEER_CERT, hence ctypes.
        functions.SSL_CTX_set_verify(ctx, verify, None)
        self.cipher_list: str = options.ciphers
        self._check_pointers()

    def _check_pointers(self) -> None:
        """Make sure the pointer offset assumption holds before any connection relies on it."""
        ssl = self.functions.module.SSL(self.ctx)
        if self.functions.SSL_get_SSL_CTX(self.functions.pointer_of(ssl)) != self.functions.pointer_of(self.ctx):
            raise SystemExit("nassl_server: nassl object layout is not the expected one (SSL_CTX* mismatch)")

    def new_server_connection(self) -> tuple[Any, Any, Any]:
        """A fresh server-side ``SSL`` with both ends of its BIO pair: OpenSSL reads the internal one, socket
        bytes are fed into the network one."""
        module = self.functions.module
        ssl = module.SSL(self.ctx)
        self.functions.SSL_set_accept_state(self.functions.pointer_of(ssl))
        ssl.set_cipher_list(self.cipher_list)
        internal_bio = module.BIO()
        network_bio = module.BIO()
        module.BIO.make_bio_pair(internal_bio, network_bio)
        ssl.set_bio(internal_bio)
        ssl.set_network_bio_to_free_when_dealloc(network_bio)
        return ssl, internal_bio, network_bio


def _flush(network_bio: Any, sock: socket.socket) -> None:
    while pending := network_bio.pending():
        sock.sendall(network_bio.read(pending))


def serve_connection(context: NasslServerContext, sock: socket.socket) -> None:
    """Handshake as the server, answer one tiny HTTP response, close. Never raises."""
    try:
        with sock:
            sock.settimeout(_SOCKET_TIMEOUT_S)
            ssl, internal_bio, network_bio = context.new_server_connection()
            try:
                while True:
                    try:
                        ssl.do_handshake()
                        break
                    except WantReadError:
                        if internal_bio.pending():
                            # OpenSSL stops after some records (a heartbeat) with bytes left unread; with a
                            # socket BIO they would still be in the kernel and make the socket readable.
                            continue
                        _flush(network_bio, sock)
                        data = sock.recv(16384)
                        if not data:
                            return
                        network_bio.write(data)
            except OpenSSLError:
                _flush(network_bio, sock)  # the alert OpenSSL queued before failing
                lingering_close(sock)
                return
            _flush(network_bio, sock)  # the last flight
            sock.settimeout(_READ_REQUEST_TIMEOUT_S)
            try:
                while True:
                    try:
                        if ssl.read(4096):
                            break
                    except WantReadError:
                        # Session tickets, or the answers to a client-initiated renegotiation.
                        _flush(network_bio, sock)
                        data = sock.recv(16384)
                        if not data:
                            return
                        network_bio.write(data)
            except (TimeoutError, OpenSSLError):
                pass  # no request: answer anyway
            ssl.write(_HTTP_RESPONSE)
            _flush(network_bio, sock)
            with contextlib.suppress(Exception):
                ssl.shutdown()
            _flush(network_bio, sock)
            lingering_close(sock)
    except Exception:  # failed handshakes and resets are expected from a scanner
        pass


def serve(context: NasslServerContext, port: int) -> None:
    """Accept forever on 127.0.0.1, one daemon thread per connection."""
    with socket.create_server(("127.0.0.1", port), backlog=128) as listener:
        print(f"READY {listener.getsockname()[1]}", flush=True)
        while True:
            client, _address = listener.accept()
            threading.Thread(target=serve_connection, args=(context, client), daemon=True).start()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.servers.nassl_server", description=__doc__.splitlines()[0])
    flavour = parser.add_mutually_exclusive_group(required=True)
    flavour.add_argument("--legacy", action="store_true", help="OpenSSL 1.0.2e: SSLv2, SSLv3, EXPORT, zlib")
    flavour.add_argument("--modern", action="store_true", help="OpenSSL 1.1.1w: up to TLS 1.3")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", type=Path, required=True, help="PEM certificate chain (leaf first)")
    parser.add_argument("--key", type=Path, required=True, help="PEM private key")
    parser.add_argument("--version", choices=[*_VERSION_ARG, "tls1_3"], default="sslv23", help="sslv23 = every version")
    parser.add_argument("--ciphers", default="ALL:COMPLEMENTOFALL", help="OpenSSL cipher string")
    parser.add_argument("--verify", choices=["none", "optional", "required"], default="none")
    parser.add_argument("--ca", type=Path, help="CA file to verify client certificates")
    parser.add_argument("--no-compression", action="store_true", help="disable zlib compression (1.0.2)")
    parser.add_argument("--no-tickets", action="store_true", help="resumption by session ID only")
    parser.add_argument("--server-preference", action="store_true", help="server chooses the cipher suite")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    context = NasslServerContext(OpenSslFunctions(legacy=options.legacy), options)
    with contextlib.suppress(KeyboardInterrupt):
        serve(context, options.port)
    sys.exit(0)


if __name__ == "__main__":
    main()
