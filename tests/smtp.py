"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, inbox: list[EmailMessage]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox.append(message)
        return "250 Message accepted for delivery"


class SMTPSink:
    """Start with `start()`, point EMAIL_* settings at `host`/`port`, read `inbox`."""

    def __init__(self) -> None:
        self.inbox: list[EmailMessage] = []
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._controller = Controller(_Handler(self.inbox), hostname=self.host, port=self.port)

    def start(self) -> SMTPSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, to: str, *, timeout: float = 20.0) -> EmailMessage:
        """Return the newest message addressed to `to`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.inbox):
                if to.lower() in str(message["To"]).lower():
                    return message
            time.sleep(0.1)
        raise AssertionError(f"No email to {to} within {timeout} s; inbox: {len(self.inbox)}")

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html_of(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("html",)).get_content()
