"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests that send e-mail."""

from __future__ import annotations

import email
import email.message
import socket
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """Keeps what the server accepted; can refuse one address, or answer every message with ``reply``."""

    def __init__(self, reply: str | None = None, refuse: str | None = None):
        self.messages: list[email.message.Message] = []
        self.recipients: list[list[str]] = []
        self.reply = reply
        self.refuse = refuse

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        if self.refuse in envelope.rcpt_tos:
            return "550 Mailbox unavailable"
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def bodies_to(self, address: str) -> list[str]:
        """The text of each message delivered to ``address``."""
        bodies = []
        for message, rcpts in zip(self.messages, self.recipients, strict=True):
            if address in rcpts:
                payload = message.get_payload(decode=True)
                assert isinstance(payload, bytes)
                bodies.append(payload.decode("utf-8"))
        return bodies


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(reply: str | None = None, refuse: str | None = None) -> tuple[Inbox, Controller]:
    inbox = Inbox(reply, refuse)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return inbox, controller
