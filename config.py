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
    # Where rate-limit counters live. None: on Redis when REDIS_URL is set, else in this
    # process's memory ("memory://"), which is right for one worker only: production refuses
    # to start with more than one worker (WORKERS) on memory limits.
    RATELIMIT_STORAGE_URI: str | None = None
    # Redis gone: count in each worker's memory until it is back, rather than fail the page.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"

    # napo-tracker's own
    PASSWORD_HASH_METHOD = "scrypt"
    UNION_NAME = "Napo"
    # Languages (napo_tracker/i18n.py): English unless a page is asked for in Welsh (?lang=cy).
    BABEL_DEFAULT_LOCALE = "en_GB"
    UNION_FULL_NAME = "Napo, the trade union and professional association for probation and family court staff"
    PDF_RENDER_TIMEOUT = 60  # seconds a PDF render may take before it is stopped
    PDF_RENDER_MEMORY_MB = 1024  # memory a PDF render may add to the server process
    # WeasyPrint's pdf_variant for every PDF: tagged PDF/UA-1 (accessible); empty for plain PDF.
    PDF_VARIANT = "pdf/ua-1"
    INSTANCE_FILES_DIR = None  # None: "files" inside the instance folder
    # Uploaded files (napo_tracker/uploads/). A DOCX or ODT is a zip: it is inflated in small
    # counted chunks, and refused at the first cap it passes, whatever its directory claims.
    UPLOAD_ZIP_MAX_MEMBERS = 1000  # files inside one upload, nested archives included
    UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # inflated bytes in all
    UPLOAD_ZIP_MAX_RATIO = 100  # inflated ÷ compressed bytes of one member, checked past its first MB
    UPLOAD_ZIP_MAX_NESTING = 1  # archives inside the upload (an embedded spreadsheet) may hold no more archives
    # Images are refused above this many pixels before they are decoded (Pillow's own
    # decompression-bomb guard is set to the same figure where images are redrawn).
    UPLOAD_IMAGE_MAX_PIXELS = 50_000_000
    # Images, PDFs and documents are cleaned in a child process with these limits.
    UPLOAD_CLEAN_TIMEOUT = 30  # seconds
    UPLOAD_CLEAN_MEMORY_MB = 1024  # memory the cleaning may add to the server process
    # Keys that encrypt members' data at rest (crypto.py): Fernet keys, newest first, given
    # inline (comma-separated) or, when DATA_KEYS is not set, in a file (one a line; a
    # relative path is inside the instance folder). No configuration starts without one.
    DATA_KEYS: str | None = None
    DATA_KEY_FILE: str | None = None
    PUBLIC_BASE_URL = "http://localhost:5000"  # the site's address, for links in e-mails
    # The most points a chart draws (dashboards, the figures pack, briefings): past it the
    # newest are drawn and the page says how many were left out.
    CHART_MAX_POINTS = 60

    # How many processes serve requests (gunicorn's workers). None: gunicorn's own WEB_CONCURRENCY
    # when set, else 1. deploy/gunicorn.conf.py sets it from the real count.
    WORKERS: int | None = None

    # Background jobs (jobs/): on Redis through RQ when REDIS_URL is set (redis://host:6379/0),
    # run by `flask jobs worker`, with `flask jobs scheduler` starting the regular ones. Unset:
    # each job runs in the web process as soon as the request that asked for it has committed.
    REDIS_URL: str | None = None
    # Seconds between a running job's signs of life; one silent for three times this long is
    # taken for dead (its worker killed) and run again. The scheduler looks this often.
    JOBS_HEARTBEAT = 10
    # Seconds before a failed job's second attempt; the third waits four times as long.
    JOBS_RETRY_DELAY = 30
    # When the scheduler starts each regular job: cron lines (minute hour day month weekday)
    # in the union's time, Europe/London. Remove a line, or set it to "", to stop that job.
    JOBS_SCHEDULE: dict[str, str] = {
        "notices.remind": "0 7 * * 1-5",
        "testimonies.purge": "30 2 * * *",
        "privacy.retention": "0 3 * * *",  # the whole retention schedule (the purge is part of it)
        "privacy.remind": "5 7 * * 1-5",  # subject access requests due within a week or overdue
        "briefings.notify": "10 7 * * *",  # officials told of published versions quoting a withdrawn testimony
        "cases.remind": "15 7 * * *",  # case deadlines coming up, due today or overdue (some fall at weekends)
        "notices.escalate": "20 7 * * 1-5",  # overdue notices with no response move up a rung (or ask the rep)
        "notifications.digest": "30 7 * * *",  # testimonies waiting, members' answers; then e-mails and digests
        "notifications.send": "*/10 * * * *",  # e-mails a mail server refused earlier, tried again
    }

    # How long each kind of record is kept (schedule.py; `flask retention apply` applies it).
    # Checked at start-up: a malformed schedule refuses to start. One rule can be changed alone,
    # e.g. NAPO_RETENTION_SCHEDULE__closed_cases="8 years".
    RETENTION_SCHEDULE = {
        "closed_cases": "6 years",
        "testimony_originals": "30 days",
        "resolved_notices": "6 years",
        "idle_accounts": "1 year",
        "audit_entries": "7 years",
    }
    # How members reach the union about their data (shown on the privacy notice, /privacy).
    PRIVACY_CONTACT = "your Napo rep, or Napo's head office (ask for the data protection lead)"
    # Subject access requests: admins are reminded this many days before the deadline.
    ACCESS_REQUEST_REMIND_DAYS = 7
    # Where erasure tombstones are copied as they are laid (privacy/tombstones.py): a file that
    # outlives a database restored from an older backup. None: erasure-tombstones.jsonl in the
    # instance folder. It holds no personal data: keep a copy with the backups.
    TOMBSTONE_LEDGER: str | None = None
    # Where pg_dump and pg_restore are (None: on the PATH); they must not be older than the server.
    PG_BIN_DIR: str | None = None

    # Anonymous testimonies
    TESTIMONY_RECEIPT_KEY: str | None = None  # None: derived from SECRET_KEY
    TESTIMONY_SUBMIT_RATE_LIMIT = "10 per hour;30 per day"
    TESTIMONY_STATUS_RATE_LIMIT = "10 per 10 minutes;50 per day"
    # A quote is attributed (grade, region, years in the service) only with facts that at least
    # this many approved testimonies share; rarer facts are left out (testimonies/attribution.py).
    TESTIMONY_ATTRIBUTION_MIN_SHARED = 3

    # Evidence: the most data rows one CSV import takes (the web upload and `evidence import`);
    # a larger file is refused whole, with a message saying how to split it.
    IMPORT_MAX_ROWS = 50_000
    # A file larger than this is imported on a worker (a job whose page shows its progress);
    # a smaller one at once, on the upload page.
    IMPORT_INLINE_BYTES = 256 * 1024
    # The most rows one CSV export sends (cases, notices, evidence, testimonies); a longer one is
    # refused with a message saying how to narrow it. Exports are written as they are sent.
    EXPORT_MAX_ROWS = 100_000

    # Foreseeability notices
    NOTICE_RESPONSE_WORKING_DAYS = 10
    # What the daily escalation run (`notices escalate`) does with a served or escalated notice
    # whose running deadline has passed with no response: "automatic" moves it to the next rung
    # of the ladder; "confirm" asks its rep (in the inbox) to take that step. Never a rung skipped.
    NOTICE_ESCALATION = "automatic"

    # Case deadlines: how many calendar days ahead a new deadline type reminds by default
    # (each type keeps its own), and the furthest a deadline may be set from its starting day.
    CASE_DEADLINE_REMIND_DAYS = 3
    CASE_DEADLINE_MAX_DAYS = 3 * 366

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

    DATA_KEY_FILE = "data.keys"  # instance/data.keys, made by `make run`; never committed


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast: tests hash many passwords
    DATA_KEYS = "dGVzdGluZy1kYXRhLWtleS1ub3QtZm9yLXVzZS0tLS0="  # a fixed key, known to all: tests only
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
