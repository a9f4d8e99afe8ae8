"""A real IMAP server for the tests: Debian's dovecot, started by the test run on the loopback.

``dovecot_server`` (one per test module) writes a minimal configuration into a fresh folder
(plain IMAP on 127.0.0.1 and a free port, users in a passwd-file, mail in a Maildir in each
user's home there), runs ``dovecot -F -c <conf>`` in the foreground, waits until the port
answers and stops it at the end. ``dovecot`` (per test) adds a user with an empty mailbox.
Where dovecot is not installed or cannot start, the test is skipped and says why.
``.ci/run`` installs it (``dovecot-imapd``); it is never started as a system service.

As an ordinary user every dovecot process runs as that user (no chroot). As root (CI),
dovecot refuses to run its login processes or to open mail as root: those run as Debian's
``dovenull`` and ``dovecot`` users, and the mail as ``nobody``.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")
START_SECONDS = 10.0
USER = "portal-inbox"
PASSWORD = "p@ss/w rd%"  # URL-unsafe on purpose: the IMAP URL must encode it


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def url(self, folder: str = "INBOX", *, password: str | None = None) -> str:
        secret = quote(self.password if password is None else password, safe="")
        return f"imap://{quote(self.user, safe='')}:{secret}@{self.host}:{self.port}/{folder}"

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=5)
        conn.login(self.user, self.password)
        return conn

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into ``folder`` as a mail server would (IMAP APPEND)."""
        conn = self.connect()
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def messages(self, folder: str) -> list[bytes]:
        """The bytes of every message in ``folder`` (without marking them seen)."""
        conn = self.connect()
        try:
            typ, data = conn.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            typ, data = conn.uid("SEARCH", None, "ALL")
            found = []
            for uid in data[0].split():
                typ, fetched = conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
                found += [item[1] for item in fetched if isinstance(item, tuple)]
            return found
        finally:
            conn.logout()


def _dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return next((p for p in DOVECOT_PATHS if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accounts() -> tuple[str, pwd.struct_passwd]:
    """The configuration lines naming the accounts dovecot's processes run as, and the
    owner of the mail."""
    me = pwd.getpwuid(os.getuid())
    if me.pw_uid != 0:
        group = grp.getgrgid(me.pw_gid).gr_name
        lines = (
            f"default_login_user = {me.pw_name}\n"
            f"default_internal_user = {me.pw_name}\n"
            f"default_internal_group = {group}\n"
        )
        return lines, me
    try:
        pwd.getpwnam("dovenull"), pwd.getpwnam("dovecot")
        return "default_login_user = dovenull\ndefault_internal_user = dovecot\n", pwd.getpwnam(
            "nobody"
        )
    except KeyError:
        pytest.skip("dovecot runs as root here but the users dovenull/dovecot/nobody are missing")


def _config(root: Path, port: int, accounts: str, mail_uid: int) -> str:
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
{accounts}first_valid_uid = {mail_uid}
last_valid_uid = {mail_uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
}}
# No chroot: an ordinary user may not, and a test server needs no jail.
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _wait_for_greeting(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    _stop(process)
    pytest.skip(f"dovecot did not start on 127.0.0.1:{port}: {text}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class _Server:
    port: int
    root: Path
    mail_owner: pwd.struct_passwd
    users: int = 0

    def add_user(self) -> Dovecot:
        """A new user with an empty mailbox: each test gets its own mailbox from one
        server."""
        self.users += 1
        user = f"{USER}-{self.users}"
        home = self.root / "home" / user
        home.mkdir()
        os.chown(home, self.mail_owner.pw_uid, self.mail_owner.pw_gid)
        owner = f"{self.mail_owner.pw_uid}:{self.mail_owner.pw_gid}"
        # One passwd-file per user: dovecot reads a new file at once, while a changed one
        # may be noticed only a second later.
        (self.root / "users" / user).write_text(f"{user}:{{PLAIN}}{PASSWORD}:{owner}::{home}\n")
        return Dovecot("127.0.0.1", self.port, user, PASSWORD, self.root)


@contextmanager
def running_dovecot() -> Iterator[_Server]:
    """A dovecot of its own, stopped and removed at the end; skips the test without one."""
    binary = _dovecot_binary()
    if binary is None:
        pytest.skip("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    accounts, mail_owner = _accounts()
    # Not pytest's tmp_path: as root, the unprivileged dovecot processes must be able to
    # reach the folder, and pytest's base folder is private to its user.
    root = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
    try:
        root.chmod(0o755)
        (root / "home").mkdir()
        (root / "users").mkdir()
        port = _free_port()
        conf = root / "dovecot.conf"
        conf.write_text(_config(root, port, accounts, mail_owner.pw_uid))
        with open(root / "stderr.log", "wb") as stderr:
            process = subprocess.Popen(
                [binary, "-F", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            _wait_for_greeting(port, process, root / "dovecot.log")
            yield _Server(port, root, mail_owner)
        finally:
            _stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[_Server]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server) -> Dovecot:
    """The module's IMAP server, with a user of the test's own and an empty mailbox."""
    return dovecot_server.add_user()


@pytest.fixture
def lone_dovecot() -> Iterator[Dovecot]:
    """An IMAP server of the test's own, for a test of failed logins: dovecot delays every
    later login from the same address by seconds (its auth penalty)."""
    with running_dovecot() as server:
        yield server.add_user()
