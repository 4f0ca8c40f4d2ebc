"""Sending e-mail: SMTP when ``MAIL_SERVER`` is set, otherwise .eml files in the instance folder.

Settings (config.py; each also readable from the environment as ``NAPO_MAIL_…``):
``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USE_SSL``,
``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_DEFAULT_SENDER``, ``MAIL_TIMEOUT`` (seconds) and
``MAIL_OUTBOX_DIR`` (where .eml files go without a server; unset: ``instance/mail``).

Every message this app sends is content-free: references, dates and links, never a
member's name or a testimony's words.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from .kernel.clock import utcnow


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link to one of the app's pages, on ``PUBLIC_BASE_URL``: for e-mails, which are
    read away from the request (or the command) that sent them."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


class MailError(RuntimeError):
    """The message could not be handed over; the text says why, without secrets."""


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="napo-tracker.invalid")
    message.set_content(body)
    return message


class _FileOutbox:
    def __init__(self, directory: str):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def send(self, message: EmailMessage) -> None:
        name = f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        with open(os.path.join(self.directory, name), "wb") as handle:
            handle.write(bytes(message))


class _SMTPOutbox:
    def __init__(self, connection: smtplib.SMTP):
        self.connection = connection

    def send(self, message: EmailMessage) -> None:
        try:
            self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"the mail server refused the message to {message['To']}: {_describe(error)}") from error


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        return f"{error.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
    return str(error) or type(error).__name__


def outbox_dir() -> str:
    return current_app.config["MAIL_OUTBOX_DIR"] or os.path.join(current_app.instance_path, "mail")


@contextmanager
def outbox():
    """Yield an object with ``send(message)``; raises MailError when the server cannot be reached."""
    config = current_app.config
    server = config["MAIL_SERVER"]
    if not server:
        yield _FileOutbox(outbox_dir())
        return
    port = int(config["MAIL_PORT"])
    timeout = float(config["MAIL_TIMEOUT"])
    try:
        if config["MAIL_USE_SSL"]:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                server, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(server, port, timeout=timeout)
            if config["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"could not connect to the mail server {server}:{port}: {_describe(error)}") from error
    try:
        yield _SMTPOutbox(connection)
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()
