"""The password rule, after NIST SP 800-63B, for every way a password is set.

Long enough (12 characters; no rules about digits or symbols), at most 1,024; not a common
or breached password, and not easy to guess (zxcvbn's estimate, with its own lists shipped
in the package: nothing is fetched); and not built from the account's own e-mail address
or name. The admin pages, the change-password and reset pages and `flask users create`
all call ``check_password``.
"""

from __future__ import annotations

import re

from flask import current_app
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from ..kernel.errors import DomainError

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_SCORE = 3  # zxcvbn's scale: 3 is "safely unguessable" against an online attacker (10^8 guesses)
SCORED_LENGTH = 100  # the estimate slows down with length; a longer password is judged on its start


class PasswordRefused(DomainError):
    """A password that breaks the rule; the message says why and what would do."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _own_words(email: str, name: str) -> list[str]:
    """What an attacker knows of the account: the address, its parts, the name and its words."""
    local, _, domain = email.lower().partition("@")
    words = [email.lower(), local, domain, *re.split(r"[\W_]+", local), name.lower(), *name.lower().split()]
    return [word for word in words if len(word) >= 3]


def check_password(password: str, *, email: str = "", name: str = "", field: str = "password") -> None:
    """Refuse a password that breaks the rule (``PasswordRefused`` on ``field``)."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"Passwords need at least {MIN_LENGTH} characters.", field)
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"Passwords can have at most {MAX_LENGTH:,} characters.", field)
    plain = _plain(password)
    # Containing the whole address, or a long enough local part or name, is refused outright;
    # shorter pieces only lower zxcvbn's estimate (a name like "Mark" may sit inside "market").
    for own, shortest in ((_plain(email), 1), (_plain(email.partition("@")[0]), 5), (_plain(name), 6)):
        if len(own) >= shortest and own and own in plain:
            raise PasswordRefused("Choose a password that is not built from your e-mail address or name.", field)
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=_own_words(email, name))
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or "It would be easy to guess."
        raise PasswordRefused(
            f"Choose a harder password. {warning.rstrip('.')}. A few unrelated words make a good one.", field
        )
