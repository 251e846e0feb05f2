"""Users of the API: a JSON file of names and scrypt password hashes, and signed bearer tokens.

Passwords are hashed with scrypt (``hashlib.scrypt``, the standard library's memory-hard key
derivation; no extra dependency), each with its own random salt.  A token is the user's name, an
expiry and an HMAC-SHA256 over both with the server's secret (``secret.key`` in the server's folder,
made on first use), so tokens survive a restart and need no table; clients send them as openEO says,
``Authorization: Bearer basic//TOKEN``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

USERS_FILE = "users.json"
SECRET_FILE = "secret.key"
TOKEN_LIFETIME_S = 24 * 3600
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
"""scrypt cost: 16 MiB and tens of milliseconds per check (the interactive-login parameters)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$SALT$HASH`` (base64)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(got, base64.b64decode(digest))


def _read_users(workdir: Path) -> dict[str, str]:
    path = workdir / USERS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    return {str(name): str(entry["password"]) for name, entry in data.get("users", {}).items()}


def add_user(workdir: Path, name: str, password: str) -> bool:
    """Add or replace ``name``; returns whether it replaced an existing user."""
    if not _NAME.match(name):
        raise ConfigError(f"user name {name!r}: letters, digits, '_', '.', '@', '-' (up to 64)")
    if not password:
        raise ConfigError(f"user {name}: empty password")
    workdir.mkdir(parents=True, exist_ok=True)
    users = _read_users(workdir)
    replaced = name in users
    users[name] = hash_password(password)
    body = json.dumps({"users": {n: {"password": h} for n, h in sorted(users.items())}}, indent=2)
    path = workdir / USERS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(body + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)
    return replaced


@dataclass
class Authenticator:
    """Checks passwords against the users file (re-read each time, so users added while the server runs
    can log in) and issues and verifies tokens."""

    workdir: Path

    def __post_init__(self) -> None:
        self._secret = self._load_secret()

    def _load_secret(self) -> bytes:
        path = self.workdir / SECRET_FILE
        if not path.exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
        return path.read_bytes()

    def login(self, name: str, password: str) -> str | None:
        """A token for ``name``, or None when the name or password is wrong."""
        stored = _read_users(self.workdir).get(name)
        if stored is None:
            check_password(password, hash_password("timing"))  # as slow for unknown names
            return None
        if not check_password(password, stored):
            return None
        return self._sign(name, int(time.time()) + TOKEN_LIFETIME_S)

    def _sign(self, name: str, expires: int) -> str:
        payload = f"{name}:{expires}"
        mac = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()
        return base64.urlsafe_b64encode(f"{payload}:{mac}".encode()).decode().rstrip("=")

    def user_of(self, token: str) -> str | None:
        """The user a valid, unexpired token was issued to, else None."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            name, expires, mac = text.rsplit(":", 2)
        except (ValueError, UnicodeDecodeError):
            return None
        good = hmac.new(self._secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, mac) or int(expires) < time.time():
            return None
        return name if name in _read_users(self.workdir) else None
