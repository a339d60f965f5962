"""Sending e-mail: SMTP in production, a folder of .eml files (the outbox) in the demo and
the tests. Both take a standard-library EmailMessage."""

from __future__ import annotations

import smtplib
import ssl
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from consentry.domain.ids import new_id
from consentry.store.files import private_dir, private_file


class MailSender(Protocol):
    def send(self, message: EmailMessage, about: str | None = None) -> None:
        """``about``: a tag naming whom the mail is about (no personal data), so that the
        mails kept here can be deleted with the customer."""
        ...

    def forget(self, about: str) -> int:
        """Delete the kept mails about ``about``; how many."""
        ...


class FileOutbox:
    """Each message is written as ``<time>-<id>[-<about>].eml`` into ``folder`` (atomically),
    with the same name in ``.txt`` beside it: the headers a reader wants and the plain-text body
    as it reads (the .eml's body is quoted-printable, which splits long links in two)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def forget(self, about: str) -> int:
        gone = 0
        for path in self.folder.glob(f"*-{about}.eml"):
            path.unlink(missing_ok=True)
            path.with_suffix(".txt").unlink(missing_ok=True)
            gone += 1
        return gone

    def send(self, message: EmailMessage, about: str | None = None) -> None:
        private_dir(self.folder)  # mails hold addresses and personal links
        tag = f"-{about}" if about else ""
        name = f"{time.time_ns()}-{new_id('msg')}{tag}.eml"
        readable = self.folder / (name.removesuffix(".eml") + ".txt")
        private_file(readable.with_suffix(".txt.part"), _readable(message).encode())
        readable.with_suffix(".txt.part").rename(readable)
        temporary = self.folder / (name + ".part")
        private_file(temporary, bytes(message))
        temporary.rename(self.folder / name)


def _readable(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    head = "".join(
        f"{name}: {message[name]}\n" for name in ("From", "To", "Subject", "Date") if message[name]
    )
    return f"{head}\n{text}"


class SmtpSender:
    def __init__(
        self, host: str, port: int, user: str | None, password: str | None, starttls: bool
    ) -> None:
        self.host, self.port = host, port
        self.user, self.password = user, password
        self.starttls = starttls

    def forget(self, about: str) -> int:
        return 0  # sent on: nothing kept here

    def send(self, message: EmailMessage, about: str | None = None) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)
