"""The secret behind ``user_key``: an HMAC-SHA256 key, from a local file or a secret store.

End-user ids from request metadata are stored only as ``HMAC-SHA256(key, user id)`` in hex, so the same
user gets the same ``user_key`` across days while the raw id cannot be read back without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from ..errors import ConfigError

LOCAL_KEY_BYTES = 32
LOCAL_KEY_RELATIVE_PATH = Path("_secrets") / "user_key"


class UserKeyProvider(Protocol):
    """A source of the HMAC key bytes used to hash end-user ids."""

    def key(self) -> bytes:
        """Return the HMAC key bytes (never logged or stored in a table)."""
        ...


class LocalUserKey:
    """A random 32-byte key kept in ``<lake>/_secrets/user_key`` with mode 0600, created on first use."""

    def __init__(self, lake_dir: Path | str) -> None:
        self.path = Path(lake_dir) / LOCAL_KEY_RELATIVE_PATH
        self._key: bytes | None = None

    def key(self) -> bytes:
        if self._key is None:
            self._key = self._read_or_create()
        return self._key

    def _read_or_create(self) -> bytes:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read_existing()
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(LOCAL_KEY_BYTES))
        return self._read_existing()

    def _read_existing(self) -> bytes:
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"user key file {self.path} is readable by other users (mode {mode:o}); run chmod 600 on it"
            )
        key = self.path.read_bytes()
        if len(key) != LOCAL_KEY_BYTES:
            raise ConfigError(
                f"user key file {self.path} is {len(key)} bytes long, expected {LOCAL_KEY_BYTES}; "
                "restore it from backup, or delete it to start a new key (user_key values then change)"
            )
        return key


def hash_user_id(key: bytes, user_id: str) -> str:
    """Return the hex HMAC-SHA256 of a user id under the given key."""
    return hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()
