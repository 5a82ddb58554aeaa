"""Real daemons for the STARTTLS and proxy tests, installed from Debian packages by ``.ci/run``.

Each runs in the foreground on 127.0.0.1 at a free port, with its configuration, state and a copy of the test
certificate in a directory of its own (mode 755: most of them drop privileges), and is stopped when the session
ends. A fixture skips, naming the package, when its binary is missing; a daemon that does not come up fails the
test with its own output.

Fixtures (session-scoped): ``postfix_daemon`` (SMTP), ``dovecot_daemon`` (IMAP and POP3), ``vsftpd_daemon`` (FTP),
``prosody_daemon`` (XMPP client-to-server and server-to-server), ``slapd_daemon`` (LDAP), ``postgres_daemon``,
``xrdp_daemon`` (RDP), ``tinyproxy_daemon`` (HTTP CONNECT, with and without Basic authentication).

Traps: postfix logs to syslog unless ``maillog_file`` is set, and its master outlives ``start-fg``'s process
(stop it with ``postfix stop``); PostgreSQL refuses to run as root; never run ``prosody --version``, which starts
a server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import pytest

from tlsprobe.testing import TestPKI

_READY_TIMEOUT_S = 20.0
_STOP_TIMEOUT_S = 10.0


class DaemonStartError(RuntimeError):
    """The daemon did not listen in time; the message holds its output."""


@attrs.define
class Daemon:
    """A running daemon: its ports by service name (``ports["imap"]``), its directory and its output."""

    name: str
    ports: dict[str, int]
    directory: Path
    process: subprocess.Popen[bytes]
    stop_command: Sequence[str] | None = None
    stop_signal: signal.Signals = signal.SIGTERM

    @property
    def port(self) -> int:
        """The first (often only) port."""
        return next(iter(self.ports.values()))

    def output(self) -> str:
        """What the daemon wrote to stdout and stderr."""
        with contextlib.suppress(FileNotFoundError):
            return (self.directory / "output.log").read_text(errors="replace")
        return ""

    def stop(self) -> None:
        """Stop it (its own way when it has one), wait for it, and remove its directory. Whatever of its own
        process group is still there after that is killed: it was started in a session of its own."""
        if self.stop_command is not None and self.process.poll() is None:
            subprocess.run(self.stop_command, capture_output=True, timeout=_STOP_TIMEOUT_S, check=False)
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(_STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(_STOP_TIMEOUT_S)
        shutil.rmtree(self.directory, ignore_errors=True)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if path is None:
        pytest.skip(f"{binary} is not installed (Debian package {package}; .ci/run installs it)")
    return path


def _workdir(name: str, pki: TestPKI) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=f"tlsprobe-{name}-"))
    directory.chmod(0o755)  # the daemons drop privileges and must still reach their files
    shutil.copy(pki.rsa_chain, directory / "cert.pem")
    shutil.copy(pki.rsa_key, directory / "key.pem")
    for name_ in ("cert.pem", "key.pem"):
        (directory / name_).chmod(0o644)
    return directory


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _start(
    name: str,
    command: Sequence[str],
    directory: Path,
    ports: Mapping[str, int],
    *,
    stop_command: Sequence[str] | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
    user: str | None = None,
) -> Daemon:
    with (directory / "output.log").open("wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that nothing of it outlives the tests
            user=user,
        )
    daemon = Daemon(
        name=name,
        ports=dict(ports),
        directory=directory,
        process=process,
        stop_command=stop_command,
        stop_signal=stop_signal,
    )
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if all(_listening(port) for port in ports.values()):
            return daemon
        if process.poll() is not None and stop_command is None:
            break
        time.sleep(0.05)
    output = daemon.output()
    daemon.stop()
    raise DaemonStartError(f"{name} did not listen on {dict(ports)}: {' '.join(command)}\n{output}")


@contextlib.contextmanager
def _running(daemon: Daemon) -> Iterator[Daemon]:
    try:
        yield daemon
    finally:
        daemon.stop()


def start_postfix(pki: TestPKI) -> Daemon:
    """postfix's smtpd with STARTTLS (``smtpd_tls_security_level = may``)."""
    postfix = _require("postfix", "postfix")
    directory = _workdir("postfix", pki)
    port = free_port()
    for sub in ("etc", "spool", "data"):
        (directory / sub).mkdir()
        (directory / sub).chmod(0o755)
    shutil.chown(directory / "data", "postfix")
    (directory / "etc" / "main.cf").write_text(
        f"""\
compatibility_level = 3.6
queue_directory = {directory}/spool
data_directory = {directory}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = tlsprobe-test.localdomain
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = /dev/stdout
smtpd_tls_security_level = may
smtpd_tls_cert_file = {directory}/cert.pem
smtpd_tls_key_file = {directory}/key.pem
smtpd_tls_session_cache_database =
# EHLO is judged at once (not at RCPT TO), so that a test can see its name refused.
smtpd_delay_reject = no
smtpd_helo_required = yes
smtpd_helo_restrictions = reject_non_fqdn_helo_hostname
"""
    )
    (directory / "etc" / "master.cf").write_text(
        f"""\
127.0.0.1:{port} inet n - n - - smtpd
postlog   unix-dgram n - n - 1 postlogd
cleanup   unix n - n - 0 cleanup
rewrite   unix - - n - - trivial-rewrite
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
proxymap  unix - - n - - proxymap
tlsmgr    unix - - n 1000? 1 tlsmgr
qmgr      unix n - n 300 1 qmgr
pickup    unix n - n 60 1 pickup
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
"""
    )
    config = str(directory / "etc")
    return _start(
        "postfix",
        [postfix, "-c", config, "start-fg"],
        directory,
        {"smtp": port},
        stop_command=[postfix, "-c", config, "stop"],
    )


def start_dovecot(pki: TestPKI) -> Daemon:
    """dovecot with IMAP (``ports["imap"]``) and POP3 (``ports["pop3"]``), STARTTLS on both; also on the
    standard ports 143 and 110 (``ports["imap_standard"]``, ``ports["pop3_standard"]``) when both are free."""
    dovecot = _require("dovecot", "dovecot-imapd and dovecot-pop3d")
    directory = _workdir("dovecot", pki)
    imap, pop3 = free_port(), free_port()
    ports = {"imap": imap, "pop3": pop3}
    imap_extra = pop3_extra = ""
    if _bindable(143) and _bindable(110):
        ports |= {"imap_standard": 143, "pop3_standard": 110}
        imap_extra = "  inet_listener imap_standard {\n    port = 143\n  }\n"
        pop3_extra = "  inet_listener pop3_standard {\n    port = 110\n  }\n"
    (directory / "dovecot.conf").write_text(
        f"""\
protocols = imap pop3
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
log_path = /dev/stderr
ssl = yes
ssl_cert = <{directory}/cert.pem
ssl_key = <{directory}/key.pem
auth_mechanisms = plain
passdb {{
  driver = static
  args = password=not-used
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={directory}/home
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
{imap_extra}}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
{pop3_extra}}}
"""
    )
    return _start("dovecot", [dovecot, "-F", "-c", str(directory / "dovecot.conf")], directory, ports)


def start_vsftpd(pki: TestPKI, *, tls: bool = True) -> Daemon:
    """vsftpd with anonymous logins and ``AUTH TLS`` (refused with ``tls=False``)."""
    vsftpd = _require("vsftpd", "vsftpd")
    directory = _workdir("vsftpd", pki)
    port = free_port()
    for sub in ("empty", "ftp"):
        (directory / sub).mkdir()
        (directory / sub).chmod(0o755)
    (directory / "vsftpd.conf").write_text(
        f"""\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root={directory}/ftp
secure_chroot_dir={directory}/empty
seccomp_sandbox=NO
xferlog_enable=NO
ssl_enable={"YES" if tls else "NO"}
allow_anon_ssl=YES
force_anon_data_ssl=NO
force_anon_logins_ssl=NO
require_ssl_reuse=NO
rsa_cert_file={directory}/cert.pem
rsa_private_key_file={directory}/key.pem
"""
    )
    return _start("vsftpd", [vsftpd, str(directory / "vsftpd.conf")], directory, {"ftp": port})


def start_prosody(pki: TestPKI) -> Daemon:
    """prosody serving ``localhost``: client-to-server (``ports["c2s"]``) and server-to-server
    (``ports["s2s"]``), both requiring STARTTLS."""
    prosody = _require("prosody", "prosody")
    directory = _workdir("prosody", pki)
    c2s, s2s = free_port(), free_port()
    (directory / "data").mkdir()
    (directory / "prosody.cfg.lua").write_text(
        f"""\
run_as_root = true
pidfile = "{directory}/prosody.pid"
data_path = "{directory}/data"
certificates = "{directory}"
log = {{ {{ levels = {{ min = "info" }}, to = "console" }} }}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
s2s_ports = {{ {s2s} }}
c2s_direct_tls_ports = {{ }}
s2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
modules_enabled = {{ "tls"; "saslauth"; "dialback"; "disco"; }}
modules_disabled = {{ "posix"; "admin_shell"; }}
ssl = {{ certificate = "{directory}/cert.pem"; key = "{directory}/key.pem"; }}
VirtualHost "localhost"
"""
    )
    command = [prosody, "--config", str(directory / "prosody.cfg.lua"), "-F"]
    return _start("prosody", command, directory, {"c2s": c2s, "s2s": s2s})


def start_slapd(pki: TestPKI, *, tls: bool = True) -> Daemon:
    """OpenLDAP's slapd (GnuTLS inside) with StartTLS; without a certificate (``tls=False``) it refuses it."""
    slapd = _require("slapd", "slapd")
    directory = _workdir("slapd", pki)
    port = free_port()
    lines = [
        "include /etc/ldap/schema/core.schema",
        f"pidfile {directory}/slapd.pid",
        f"argsfile {directory}/slapd.args",
    ]
    if tls:
        lines += [f"TLSCertificateFile {directory}/cert.pem", f"TLSCertificateKeyFile {directory}/key.pem"]
    (directory / "slapd.conf").write_text("\n".join(lines) + "\n")
    command = [slapd, "-f", str(directory / "slapd.conf"), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"]
    return _start("slapd", command, directory, {"ldap": port})


def start_postgres(pki: TestPKI) -> Daemon:
    """PostgreSQL with ``ssl = on``, run as the ``postgres`` user (it refuses root)."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not binaries:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)")
    postgres = Path(binaries[-1])
    directory = _workdir("postgres", pki)
    port = free_port()
    data = directory / "data"
    data.mkdir()
    for path in (data, directory / "cert.pem", directory / "key.pem"):
        shutil.chown(path, "postgres", "postgres")
    (directory / "key.pem").chmod(0o600)  # PostgreSQL refuses a key others can read
    subprocess.run(
        [str(postgres.parent / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=60,
        user="postgres",
        cwd=directory,
    )
    command = [str(postgres), "-D", str(data)]
    command += ["-c", "listen_addresses=127.0.0.1", "-c", f"port={port}", "-c", "unix_socket_directories="]
    command += ["-c", "ssl=on", "-c", f"ssl_cert_file={directory}/cert.pem", "-c", f"ssl_key_file={directory}/key.pem"]
    # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to leave.
    return _start("postgres", command, directory, {"postgres": port}, stop_signal=signal.SIGINT, user="postgres")


def start_xrdp(pki: TestPKI) -> Daemon:
    """xrdp with ``security_layer=tls``: RDP negotiation, then TLS."""
    xrdp = _require("xrdp", "xrdp")
    directory = _workdir("xrdp", pki)
    port = free_port()
    Path("/var/run/xrdp").mkdir(parents=True, exist_ok=True)  # its pid file; not configurable
    (directory / "xrdp.ini").write_text(
        f"""\
[Globals]
ini_version=1
fork=true
port=tcp://127.0.0.1:{port}
security_layer=tls
crypt_level=high
certificate={directory}/cert.pem
key_file={directory}/key.pem
ssl_protocols=TLSv1.2, TLSv1.3
[Logging]
LogFile={directory}/xrdp.log
LogLevel=INFO
EnableSyslog=false
EnableConsole=true
ConsoleLevel=INFO
[Channels]
[Xorg]
name=Xorg
lib=libxup.so
username=ask
password=ask
ip=127.0.0.1
port=-1
code=20
"""
    )
    return _start("xrdp", [xrdp, "--nodaemon", "--config", str(directory / "xrdp.ini")], directory, {"rdp": port})


def start_tinyproxy(pki: TestPKI, *, credentials: tuple[str, str] | None = None) -> Daemon:
    """tinyproxy, tunnelling to any port; with ``credentials`` it requires Basic authentication."""
    tinyproxy = _require("tinyproxy", "tinyproxy")
    directory = _workdir("tinyproxy", pki)
    port = free_port()
    lines = [f"Port {port}", "Listen 127.0.0.1", "Timeout 30", "MaxClients 100", "LogLevel Info"]
    lines.append("DisableViaHeader Yes")  # no ConnectPort line: tunnels to every port are allowed
    if credentials is not None:
        lines.append(f"BasicAuth {credentials[0]} {credentials[1]}")
    (directory / "tinyproxy.conf").write_text("\n".join(lines) + "\n")
    command = [tinyproxy, "-d", "-c", str(directory / "tinyproxy.conf")]
    return _start("tinyproxy", command, directory, {"proxy": port})


@pytest.fixture(scope="session")
def postfix_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """postfix: ``ports["smtp"]``."""
    with _running(start_postfix(test_pki)) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def dovecot_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """dovecot: ``ports["imap"]`` and ``ports["pop3"]``."""
    with _running(start_dovecot(test_pki)) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def vsftpd_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """vsftpd: ``ports["ftp"]``."""
    with _running(start_vsftpd(test_pki)) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def prosody_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """prosody serving ``localhost``: ``ports["c2s"]`` and ``ports["s2s"]``."""
    with _running(start_prosody(test_pki)) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def slapd_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """slapd: ``ports["ldap"]``."""
    with _running(start_slapd(test_pki)) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def postgres_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """PostgreSQL: ``ports["postgres"]``."""
    with _running(start_postgres(test_pki)) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def xrdp_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """xrdp: ``ports["rdp"]``."""
    with _running(start_xrdp(test_pki)) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def tinyproxy_daemon(test_pki: TestPKI) -> Iterator[Daemon]:
    """tinyproxy without authentication: ``ports["proxy"]``."""
    with _running(start_tinyproxy(test_pki)) as daemon:
        yield daemon
