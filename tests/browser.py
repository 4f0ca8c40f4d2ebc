"""Signing in from a real browser, second factor included."""

from __future__ import annotations

from playwright.sync_api import Page

from napo_tracker.accounts.models import user_by_email

from .factories import PASSWORD, totp_code


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Fill the login form; where the account asks for its authenticator code, type it too."""
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if page.url.endswith("/login/two-factor"):
        user = user_by_email(email)
        assert user is not None
        page.get_by_label("Code").fill(totp_code(user))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
