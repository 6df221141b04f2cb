"""Connecting: the pool opened in a worker, the password asked for, a typed one offered to save.

The app owns one `Connector` and acts on what it posts: `Connected`, `PasswordNeeded` or
`ConnectFailed`. The connector never touches a screen other than the prompts it asks with.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import asyncpg
from textual.app import App
from textual.worker import Worker

from pgconsole.config import Settings
from pgconsole.db.connection.failures import classify, password_failure
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import (
    KEYRING_SERVICE,
    STORED,
    PasswordChoice,
    PasswordQuery,
    PasswordSource,
    keyring_save,
    keyring_usable,
)
from pgconsole.db.connection.pool import TlsState
from pgconsole.db.opening import Opening, open_pool
from pgconsole.messages import Connected, ConnectFailed, PasswordNeeded
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.password import PasswordScreen
from pgconsole.text import visible

_SAID: weakref.WeakKeyDictionary[App[Any], set[str]] = weakref.WeakKeyDictionary()
"""The password notices each app has shown: they are about the machine (no keyring here),
the same for every server window, so each is shown once per app."""


class Connector:
    """Opens the app's pool and says how that went, by message; asks for what is missing."""

    def __init__(
        self,
        app: App[Any],
        params: ConnectParams,
        settings: Settings,
        *,
        password_query: PasswordQuery | None,
        opening: asyncio.Task[Opening] | None,
        close_first: Callable[[], Awaitable[None]],
    ) -> None:
        """Args:
        app: Where the workers run, the messages go and the prompts are shown.
        params: Where to connect (a password in it is used as given).
        settings: Session, pool and timeout settings.
        password_query: Where to look for the password (keyring, .pgpass, ...); without one,
            `params.password` is all there is.
        opening: The first attempt, started before the app (see `pgconsole.db.opening`);
            awaited instead of starting another.
        close_first: Closes the pool open now (and what uses it) before each attempt.
        """
        self.app = app
        self.params = params
        self.settings = settings
        self.password_query = password_query
        self.opening = opening
        """The first attempt while not taken yet: whoever ends the app closes what it opened."""
        self.close_first = close_first
        self._typed_password: str | None = None
        self._rejected: PasswordSource | None = None

    def connect(self) -> Worker[None]:
        """Find the password and open the pool in a worker, so the UI never freezes."""
        return self.app.run_worker(
            self._connect, name="connect", group="connect", exclusive=True, exit_on_error=False
        )

    async def _connect(self) -> None:
        await self.close_first()
        early, self.opening = self.opening, None
        self.report(await (early if early is not None else self.attempt()))

    async def attempt(self) -> Opening:
        """One attempt with the password just typed, else the first source that has one."""
        return await open_pool(
            self.params, self.settings, self.password_query, self._typed_password
        )

    def report(self, opening: Opening) -> None:
        """Turn how an attempt ended into the message the app acts on."""
        choice, error = opening.choice, opening.error
        if choice is None:  # the password command failed
            self.app.post_message(
                ConnectFailed(password_failure(str(error), self.params), origin=self)
            )
            return
        said = _SAID.setdefault(self.app, set())
        for notice in choice.notices:
            if notice in said:
                continue
            said.add(notice)
            self.app.notify(visible(notice), severity="warning", timeout=10, markup=False)
        if opening.database is not None:
            self.app.post_message(Connected(opening.database, choice, opening, origin=self))
        elif isinstance(error, asyncpg.InvalidPasswordError) and (
            choice.source in STORED or choice.source is PasswordSource.PROMPT
        ):
            self.app.post_message(PasswordNeeded(choice, origin=self))
        else:
            assert error is not None
            failure = classify(error, self.params, password_from=choice.described)
            self.app.post_message(ConnectFailed(failure, origin=self))

    def connected(self, event: Connected) -> None:
        """Say what is unsafe or unusual about the new session; offer to keep a typed password."""
        self.warn_about_tls(event.database.info.tls.state)
        if event.database.pooler_detected:
            self.app.notify(
                "A connection pooler refused session settings at startup: pooler mode is on "
                "(no prepared-statement cache, settings applied in each transaction).",
                severity="warning",
                timeout=10,
            )
        if event.password.source is PasswordSource.PROMPT and self.password_query is not None:
            self.offer_to_save(self._typed_password or "", self._rejected)
        self._typed_password = None
        self._rejected = None

    def warn_about_tls(self, state: TlsState) -> None:
        """Say loudly when a network session is unencrypted or its server unverified."""
        if state is TlsState.NONE:
            self.app.notify(
                "This session is NOT encrypted: queries, data and the password exchange cross "
                "the network in plain text. Use sslmode=verify-full.",
                title="No TLS",
                severity="error",
                timeout=30,
            )
        elif state is TlsState.UNVERIFIED:
            self.app.notify(
                "Encrypted, but the server's certificate was not verified: anyone in the path "
                "could pose as the server. Use sslmode=verify-full with sslrootcert.",
                title="TLS unverified",
                severity="warning",
                timeout=20,
            )

    def ask_password(self, choice: PasswordChoice) -> None:
        """Ask for the password in the UI and try again with it; Esc shows the failure instead."""
        reasons = {
            PasswordSource.NONE: "The server asks for a password.",
            PasswordSource.KEYRING: "The password stored in the keyring was rejected.",
            PasswordSource.PASSFILE: f"The password from {choice.detail} was rejected.",
            PasswordSource.PROMPT: "Password authentication failed: try again.",
        }
        if choice.source is not PasswordSource.PROMPT:
            self._rejected = choice.source

        def answered(password: str | None) -> None:
            if password is None:
                failure = password_failure("no password given", self.params)
                self.app.post_message(ConnectFailed(failure, origin=self))
                return
            self._typed_password = password
            self.connect()

        reason = reasons.get(choice.source, "The server asks for a password.")
        self.app.push_screen(PasswordScreen(self.params.target, reason), answered)

    def offer_to_save(self, password: str, rejected: PasswordSource | None) -> Worker[None]:
        """After a typed password worked: offer to keep it, only in a secure keyring."""
        return self.app.run_worker(
            partial(self._offer_to_save, password, rejected),
            name="offer_to_save",
            group="keyring",
            exit_on_error=False,
        )

    async def _offer_to_save(self, password: str, rejected: PasswordSource | None) -> None:
        assert self.password_query is not None
        status = await keyring_usable()
        if not status.usable:
            self.app.notify(
                f"The password was not saved: {status.reason}.", timeout=8, markup=False
            )
            return
        key = self.password_query.keyring_key
        question = (
            "Update the password stored in the keyring?"
            if rejected is PasswordSource.KEYRING
            else "Save this password in the keyring?"
        )
        detail = f"entry {KEYRING_SERVICE} / {key} in {status.backend}"
        if not await self.app.push_screen_wait(ConfirmScreen(question, detail)):
            return
        try:
            outcome = await keyring_save(key, password)
        except Exception as error:
            self.app.notify(visible(str(error)), severity="error", markup=False)
        else:
            self.app.notify(visible(outcome), markup=False)
