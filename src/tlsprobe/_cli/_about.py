"""``tlsprobe --version``: tlsprobe's version and those of everything that decides a result.

The two OpenSSL builds inside nassl decide which handshakes the full-handshake checks can make, cryptography (and
its OpenSSL) validates certificates, and certifi's version is the date of the Mozilla root store. nassl exposes no
version call, and only ``_tls/`` may import it: the version is read from the text OpenSSL compiles into each of
nassl's extension modules, found without importing them.
"""

from __future__ import annotations

import importlib.util
import platform
import re
import sys
from pathlib import Path
from typing import Final

from tlsprobe._version import __version__

# "OpenSSL 1.1.1w  11 Sep 2023", as OpenSSL's OPENSSL_VERSION_TEXT spells it.
_OPENSSL_TEXT: Final = re.compile(rb"OpenSSL \d+\.\d+\.\d+[a-z]*(?:-[\w.]+)? +\d{1,2} [A-Z][a-z]{2} \d{4}")
_NASSL_MODULES: Final = (("_nassl", "modern"), ("_nassl_legacy", "legacy"))


def _nassl_version() -> str:
    """nassl's version from its installed metadata's folder name (``nassl-5.4.0.dist-info``), read without
    importing nassl or ``importlib.metadata`` (an email parser: a noticeable share of ``--version``'s time)."""
    spec = importlib.util.find_spec("nassl")
    if spec is None or not spec.submodule_search_locations:
        return "not installed"
    for directory in spec.submodule_search_locations:
        for info in Path(directory).parent.glob("nassl-*.dist-info"):
            return info.name.removeprefix("nassl-").removesuffix(".dist-info")
    return "(version unknown)"


def _nassl_openssl() -> list[str]:
    """``legacy: OpenSSL 1.0.2e 3 Dec 2015`` and the like, for each of nassl's builds that can be found."""
    spec = importlib.util.find_spec("nassl")
    if spec is None or not spec.submodule_search_locations:
        return []
    found = []
    for directory in spec.submodule_search_locations:
        for module, role in _NASSL_MODULES:
            for library in sorted(Path(directory).glob(f"{module}.*")):
                if library.suffix in (".pyi", ".py"):
                    continue
                match = _OPENSSL_TEXT.search(library.read_bytes())
                if match is not None:
                    found.append(f"{role}: {' '.join(match.group().decode('ascii').split())}")
    return found


def _cryptography() -> str:
    import cryptography
    from cryptography.hazmat.bindings._rust import openssl

    return f"cryptography {cryptography.__version__} ({openssl.openssl_version_text()})"


def _certifi() -> str:
    try:
        import certifi
    except ImportError:
        return "not installed"
    return str(certifi.__version__)  # its own spelling, the date: 2024.08.30 (the metadata's drops the zeros)


def version_text() -> str:
    """The lines ``--version`` prints."""
    openssl = _nassl_openssl()
    lines = [
        f"tlsprobe {__version__}",
        f"nassl {_nassl_version()}" + (f" ({'; '.join(openssl)})" if openssl else ""),
        _cryptography(),
        f"certifi {_certifi()} (the Mozilla root store of that date)",
        f"Python {platform.python_version()} ({sys.implementation.name}, {platform.platform(terse=True)})",
    ]
    return "\n".join(lines) + "\n"
