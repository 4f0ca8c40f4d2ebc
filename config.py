"""Settings for napo-tracker.

Every setting can be given in the environment with the prefix ``NAPO_``: for example
``NAPO_SECRET_KEY``, ``NAPO_DATABASE_URL`` or ``NAPO_MAIL_SERVER``. Values that look like
JSON (numbers, ``true``/``false``) are parsed as such. ``NAPO_CONFIG`` chooses the named
configuration below (``development`` unless set).
"""

from __future__ import annotations

import os
from datetime import timedelta

ENV_PREFIX = "NAPO"
DEFAULT_SECRET_KEY = "dev-only-not-secret"


class Config:
    # Flask and extensions
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # bytes; larger requests get a 413 page
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "napo_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)  # only when "keep me logged in" is ticked
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # Signed-in sessions are kept on the server (accounts/sessions.py): one ends after this many
    # seconds without a request, or this long after it began, whichever comes first. A device
    # kept signed in ("keep me logged in") lasts REMEMBER_COOKIE_DURATION instead.
    SESSION_IDLE_TIMEOUT = 3600
    SESSION_ABSOLUTE_TIMEOUT = 8 * 3600
    # Roles that must sign in with a second factor (a code from an app, or a recovery code):
    # comma-separated, empty for none.
    REQUIRE_TWO_FACTOR = "official,admin"
    PASSWORD_RESET_TTL = 3600  # seconds a password-reset link works
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    WTF_CSRF_SSL_STRICT = True
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust (0: none).
    # Behind one nginx, set NAPO_PROXY_COUNT=1, or every visitor shares the proxy's address
    # and one login rate limit.
    PROXY_COUNT = 0
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"

    # napo-tracker's own
    PASSWORD_HASH_METHOD = "scrypt"
    UNION_NAME = "Napo"
    UNION_FULL_NAME = "Napo, the trade union and professional association for probation and family court staff"
    PDF_RENDER_TIMEOUT = 60  # seconds a PDF render may take before it is stopped
    PDF_RENDER_MEMORY_MB = 1024  # memory a PDF render may add to the server process
    INSTANCE_FILES_DIR = None  # None: "files" inside the instance folder
    # Keys that encrypt members' data at rest (crypto.py): Fernet keys, newest first, given
    # inline (comma-separated) or in a file (one a line; a relative path is inside the
    # instance folder). Production refuses to start without one.
    DATA_KEYS: str | None = None
    DATA_KEY_FILE: str | None = None
    PUBLIC_BASE_URL = "http://localhost:5000"  # the site's address, for links in e-mails

    # Anonymous testimonies
    TESTIMONY_RECEIPT_KEY: str | None = None  # None: derived from SECRET_KEY
    TESTIMONY_ORIGINAL_RETENTION_DAYS = 30
    TESTIMONY_SUBMIT_RATE_LIMIT = "10 per hour;30 per day"
    TESTIMONY_STATUS_RATE_LIMIT = "10 per 10 minutes;50 per day"

    # Foreseeability notices
    NOTICE_RESPONSE_WORKING_DAYS = 10

    # E-mail: SMTP when MAIL_SERVER is set; otherwise .eml files in MAIL_OUTBOX_DIR
    # (None: "mail" inside the instance folder)
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "napo-tracker <no-reply@napo-tracker.invalid>"
    MAIL_TIMEOUT = 30
    MAIL_OUTBOX_DIR: str | None = None


class DevelopmentConfig(Config):
    SECRET_KEY = DEFAULT_SECRET_KEY
    DEBUG = False
    # The demo accounts sign in with a password alone; production and the tests use the default.
    REQUIRE_TWO_FACTOR = ""


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast: tests hash many passwords
    RATELIMIT_ENABLED = True
    WTF_CSRF_ENABLED = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # __Host-: the browser keeps these cookies only if they came over HTTPS, for the whole
    # site and for this host alone (no Domain), so a sibling host cannot plant or read them.
    SESSION_COOKIE_NAME = "__Host-napo_session"
    REMEMBER_COOKIE_NAME = "__Host-napo_remember"
    PREFERRED_URL_SCHEME = "https"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_name_from_env() -> str:
    return os.environ.get(f"{ENV_PREFIX}_CONFIG", "development")
