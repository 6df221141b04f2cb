"""Keyring backends for tests: an in-memory secure store, and one that hangs like a stuck D-Bus."""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A secure keyring that lives in memory: what a desktop keyring would do, minus D-Bus."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}
        self.writes = 0

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes += 1
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class HangingKeyring(MemoryKeyring):
    """Every call blocks until `release()`: a keyring daemon that never answers."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.gate.wait(60)
        return None

    def release(self) -> None:
        """Let blocked calls return (so the test leaves no thread behind for long)."""
        self.gate.set()


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's plaintext file backend, which pgconsole must refuse."""


PlaintextKeyring.__module__ = "keyrings.alt.file"
