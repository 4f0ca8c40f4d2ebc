"""Who may reach which endpoint: the table the security suite checks every route against.

Every endpoint of the app, for each HTTP method it answers, has one entry here saying what
each of five visitors gets: anonymous, a rep of region A (London, where the scene's records
are), a rep of region B (Wales), a national official and an admin. A route added to the app
without an entry here fails the suite, by name, until someone decides who may reach it.

To add a route: pick the policy below that says who may reach it (or write a new one), add
``"blueprint.endpoint": {"GET": POLICY, "POST": POLICY}`` to ``ACCESS``, and, if its URL takes
an argument no other route of its blueprint takes, say where the example value comes from in
``ARGUMENTS``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from werkzeug.routing import Rule

from ..factories import Scene

Role = Literal["anonymous", "rep_a", "rep_b", "official", "admin"]
ROLES: tuple[Role, ...] = ("anonymous", "rep_a", "rep_b", "official", "admin")


class Outcome(enum.Enum):
    OK = "reaches the page (GET: 200; POST: handled by the view: 200, 302, 400 or 409)"
    LOGIN = "is sent to the login page"
    UNAUTHORIZED = "gets 401 (the API answers machines)"
    FORBIDDEN = "is refused with 403"
    NOT_FOUND = "gets 404, as for a record that does not exist"
    AWAY = "is sent elsewhere on the site (302)"


OK, LOGIN, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, AWAY = (
    Outcome.OK,
    Outcome.LOGIN,
    Outcome.UNAUTHORIZED,
    Outcome.FORBIDDEN,
    Outcome.NOT_FOUND,
    Outcome.AWAY,
)


@dataclass(frozen=True)
class Policy:
    """What each visitor gets; the records addressed are region A's."""

    name: str
    anonymous: Outcome
    rep_a: Outcome
    rep_b: Outcome
    official: Outcome
    admin: Outcome
    is_public: bool = False  # on security.PUBLIC_ENDPOINTS: the gate lets anonymous visitors through

    def outcome(self, role: Role) -> Outcome:
        return getattr(self, role)


# name                      anonymous     rep A      rep B      official   admin
PUBLIC = Policy("public", OK, OK, OK, OK, OK, is_public=True)
SIGN_IN = Policy("the login page", OK, AWAY, AWAY, AWAY, AWAY, is_public=True)
# The code after the password: with no password step pending, back to the login page.
SECOND_STEP = Policy("the second step of signing in", LOGIN, AWAY, AWAY, AWAY, AWAY, is_public=True)
STAFF = Policy("any signed-in person", LOGIN, OK, OK, OK, OK)
REGIONAL = Policy("a record of region A", LOGIN, OK, NOT_FOUND, OK, OK)
OFFICIALS = Policy("officials and admins", LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)
ADMINS = Policy("admins", LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
ADMINS_OF_REGION = Policy("admins, on a region A record", LOGIN, FORBIDDEN, NOT_FOUND, FORBIDDEN, OK)
# Officials see members by pseudonym only: they neither record nor correct identities.
IDENTITY = Policy("a region A member's identity", LOGIN, OK, NOT_FOUND, FORBIDDEN, OK)
NOT_OFFICIALS = Policy("reps and admins", LOGIN, OK, OK, FORBIDDEN, OK)
# The scene's extra session is rep A's: nobody else can even find it.
OWN_SESSION = Policy("rep A's own session", LOGIN, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND)
# The scene's job is rep A's: shown to whoever asked for it, and to admins.
OWN_JOB = Policy("rep A's own job", LOGIN, OK, NOT_FOUND, NOT_FOUND, OK)
API = Policy("the API", UNAUTHORIZED, OK, OK, OK, OK)
API_REGIONAL = Policy("the API, a region A record", UNAUTHORIZED, OK, NOT_FOUND, OK, OK)


def both(policy: Policy) -> dict[str, Policy]:
    return {"GET": policy, "POST": policy}


ACCESS: dict[str, dict[str, Policy]] = {
    # shared
    "static": {"GET": PUBLIC},
    "bootstrap.static": {"GET": PUBLIC},
    "main.healthz": {"GET": PUBLIC},
    "main.index": {"GET": STAFF},
    # help: the index, the search and the members' page are public; the staff's pages are not
    "help.index": {"GET": PUBLIC},
    "help.member_page": {"GET": PUBLIC},
    "help.search_help": {"GET": PUBLIC},
    "help.page": {"GET": STAFF},
    # accounts
    "accounts.login": both(SIGN_IN),
    "accounts.logout": {"POST": STAFF},
    "accounts.password": both(STAFF),
    "accounts.sessions": both(STAFF),
    "accounts.end_one_session": {"POST": OWN_SESSION},
    "accounts.second_factor": both(SECOND_STEP),
    "accounts.forgot": both(PUBLIC),
    "accounts.reset": both(PUBLIC),  # the link's token is the credential
    "accounts.two_factor_page": both(STAFF),
    "accounts.new_recovery_codes": {"POST": STAFF},
    "accounts.two_factor_off": {"POST": STAFF},
    "accounts.user_two_factor_reset": {"POST": ADMINS},
    "accounts.users": {"GET": ADMINS},
    "accounts.user_create": both(ADMINS),
    "accounts.user_edit": both(ADMINS),
    # regions and the audit log
    "regions.index": {"GET": STAFF},
    "regions.create": {"POST": ADMINS},
    "regions.detail": {"GET": REGIONAL, "POST": ADMINS_OF_REGION},
    "regions.unit_edit": both(ADMINS),
    "audit.index": {"GET": OFFICIALS},
    # background jobs
    "jobs.index": {"GET": ADMINS},
    "jobs.detail": {"GET": OWN_JOB},
    # members' data protection: the privacy notice is for everyone; requests and erasure are admins'
    "privacy.notice": {"GET": PUBLIC},
    "privacy.requests": {"GET": ADMINS},
    "privacy.request_new": both(ADMINS),
    "privacy.request_detail": {"GET": ADMINS},
    "privacy.request_export": {"POST": ADMINS},
    "privacy.export_download": {"GET": ADMINS},
    "privacy.request_answered": {"POST": ADMINS},
    "privacy.erase": both(ADMINS),
    # testimonies: public pages for members, moderation for officials
    "testimonies.submit": both(PUBLIC),
    "testimonies.receipt": {"GET": PUBLIC},
    "testimonies.status": both(PUBLIC),
    "testimonies.moderation": {"GET": OFFICIALS},
    "testimonies.export": {"GET": OFFICIALS},
    "testimonies.detail": {"GET": OFFICIALS},
    "testimonies.approve": {"POST": OFFICIALS},
    "testimonies.reject": {"POST": OFFICIALS},
    "testimonies.ask": {"POST": OFFICIALS},
    "testimonies.tag": {"POST": OFFICIALS},
    # cases
    "cases.index": {"GET": STAFF},
    "cases.figures": {"GET": STAFF},
    "cases.export": {"GET": STAFF},
    "cases.new": both(STAFF),
    "cases.detail": {"GET": REGIONAL},
    "cases.edit": both(REGIONAL),
    "cases.status": {"POST": REGIONAL},
    "cases.timeline": {"POST": REGIONAL},
    "cases.upload": {"POST": REGIONAL},
    "cases.delete_upload": {"POST": REGIONAL},
    "cases.download": {"GET": REGIONAL},
    "cases.members": {"GET": STAFF},
    "cases.member_new": both(NOT_OFFICIALS),
    "cases.member_detail": {"GET": REGIONAL},
    "cases.member_edit": both(IDENTITY),
    "cases.deadline_types": both(ADMINS),
    "cases.deadline_type_edit": both(ADMINS),
    "cases.deadline_new": both(REGIONAL),
    "cases.deadline_met": {"POST": REGIONAL},
    # notifications: each person's own inbox (another's id changes nothing)
    "notifications.inbox": {"GET": STAFF},
    "notifications.read": {"POST": STAFF},
    "notifications.read_all": {"POST": STAFF},
    "notifications.settings": both(STAFF),
    "cases.members_import": both(NOT_OFFICIALS),
    # foreseeability notices
    "notices.index": {"GET": STAFF},
    "notices.export": {"GET": STAFF},
    "notices.figures": {"GET": STAFF},
    "notices.figures_csv": {"GET": STAFF},
    "notices.new": both(STAFF),
    "notices.detail": {"GET": REGIONAL},
    "notices.edit": both(REGIONAL),
    "notices.serve": {"POST": REGIONAL},
    "notices.letter": {"GET": REGIONAL},
    "notices.respond": both(REGIONAL),
    "notices.escalate": {"POST": REGIONAL},
    "notices.resolve": {"POST": REGIONAL},
    "notices.calendar": both(STAFF),
    "notices.calendar_feed": {"GET": PUBLIC},  # the secret in its address is the credential
    "notices.caseloads_page": {"GET": STAFF},
    "notices.caseload": both(REGIONAL),  # a rep of region A's caseload and its hand-over
    # letters: templates are admins'; a case's letters follow the case
    "letters.templates": {"GET": ADMINS},
    "letters.template_new": both(ADMINS),
    "letters.template_edit": both(ADMINS),
    "letters.case_letters": both(REGIONAL),
    "letters.download": {"GET": REGIONAL},
    # one search box: every signed-in person finds what they may open
    "search.index": {"GET": STAFF},
    # evidence and dashboards
    "evidence.index": {"GET": STAFF},
    "evidence.export": {"GET": STAFF},
    "evidence.create": both(STAFF),
    "evidence.detail": {"GET": REGIONAL},
    "evidence.edit": both(OFFICIALS),
    "evidence.verify": {"POST": OFFICIALS},
    "evidence.upload": both(STAFF),
    "evidence.metrics": {"GET": STAFF, "POST": ADMINS},
    "evidence.dashboard": {"GET": STAFF},
    "evidence.region_dashboard": {"GET": REGIONAL},  # a region's own dashboard: its reps, officials, admins
    "evidence.pack_csv": {"GET": STAFF},  # the dashboard's figures pack, as the dashboard
    "evidence.pack_xlsx": {"GET": STAFF},
    "evidence.pack_svg": {"GET": STAFF},
    "evidence.pack_png": {"GET": STAFF},
    "evidence.pack_pdf": {"GET": STAFF},
    "evidence.region_pack_csv": {"GET": REGIONAL},
    "evidence.region_pack_xlsx": {"GET": REGIONAL},
    "evidence.region_pack_svg": {"GET": REGIONAL},
    "evidence.region_pack_png": {"GET": REGIONAL},
    "evidence.region_pack_pdf": {"GET": REGIONAL},
    "evidence.metric_edit": both(ADMINS),
    "evidence.allow": both(OFFICIALS),  # allowing a small number to be cited
    "evidence.allow_withdraw": {"POST": OFFICIALS},
    "evidence.batches": {"GET": OFFICIALS},
    "evidence.batch": {"GET": OFFICIALS},
    "evidence.batch_verify": {"POST": OFFICIALS},
    "evidence.batch_revert": {"POST": OFFICIALS},
    # the API and its tokens
    "api.openapi": {"GET": API},
    "api.regions": {"GET": API},
    "api.metrics": {"GET": API},
    "api.evidence": {"GET": API},
    "api.evidence_item": {"GET": API_REGIONAL},
    "api.statistics": {"GET": API},
    "api_tokens.index": both(OFFICIALS),
    "api_tokens.revoke": {"POST": OFFICIALS},  # the official's own token; an admin may revoke any
    # briefings: national officials and admins only
    "briefings.index": {"GET": OFFICIALS},
    "briefings.new": both(OFFICIALS),
    "briefings.detail": {"GET": OFFICIALS},
    "briefings.edit": both(OFFICIALS),
    "briefings.section_new": {"POST": OFFICIALS},
    "briefings.section_edit": both(OFFICIALS),
    "briefings.section_move": {"POST": OFFICIALS},
    "briefings.section_remove": {"POST": OFFICIALS},
    "briefings.section_chart": both(OFFICIALS),
    "briefings.evidence_picker": both(OFFICIALS),
    "briefings.regional": both(OFFICIALS),
    "briefings.testimony_picker": both(OFFICIALS),
    "briefings.questions": both(OFFICIALS),
    "briefings.question_reword": both(OFFICIALS),
    "briefings.question_move": {"POST": OFFICIALS},
    "briefings.question_remove": {"POST": OFFICIALS},
    "briefings.question_bank": both(OFFICIALS),
    "briefings.question_edit": both(OFFICIALS),
    "briefings.document_css": {"GET": OFFICIALS},
    "briefings.preview": {"GET": OFFICIALS},
    "briefings.preview_pdf": {"GET": OFFICIALS},
    "briefings.publish": {"POST": OFFICIALS},
    "briefings.withdraw": {"POST": OFFICIALS},
    "briefings.pdf": {"GET": OFFICIALS},
    "briefings.version_pdf": {"GET": OFFICIALS},
    "briefings.testimony_move": {"POST": OFFICIALS},
    "briefings.number_mark": {"POST": OFFICIALS},
    "briefings.correct": {"POST": OFFICIALS},
}

# The endpoints an anonymous visitor may reach: exactly these, no more (security.PUBLIC_ENDPOINTS).
EXPECTED_PUBLIC = frozenset(
    {
        "static",
        "bootstrap.static",
        "accounts.login",
        "accounts.second_factor",
        "accounts.forgot",
        "accounts.reset",
        "main.healthz",
        "testimonies.submit",
        "testimonies.receipt",
        "testimonies.status",
        "notices.calendar_feed",
        "privacy.notice",
        "help.index",
        "help.member_page",
        "help.search_help",
    }
)


# ---------------------------------------------------------------------------- example URLs

# Where each URL argument's example value comes from: by (blueprint, argument name), or by
# (endpoint, argument name) where one endpoint differs. Values name region A's records.
Argument = Callable[[Scene], object]
ARGUMENTS: dict[tuple[str, str], Argument] = {
    ("static", "filename"): lambda s: "css/app.css",
    ("help", "slug"): lambda s: "cases",
    ("bootstrap", "filename"): lambda s: "css/bootstrap.min.css",
    ("accounts", "session_id"): lambda s: s.rep_a_other_session_id,
    ("accounts", "user_id"): lambda s: s.rep_a_id,
    ("accounts", "token"): lambda s: s.reset_token,
    ("regions", "region_id"): lambda s: s.london_id,
    ("regions", "unit_id"): lambda s: s.unit_id,
    ("testimonies", "reference"): lambda s: s.testimony_a,
    ("cases", "ref"): lambda s: s.case_a,
    ("cases", "attachment_id"): lambda s: s.attachment_a_id,
    ("cases", "member_id"): lambda s: s.member_a_id,
    ("cases", "type_id"): lambda s: s.deadline_type_id,
    ("cases", "deadline_id"): lambda s: s.deadline_a_id,
    ("notifications", "notification_id"): lambda s: s.notification_a_id,
    ("notices", "ref"): lambda s: s.notice_a,
    ("notices", "token"): lambda s: s.calendar_token,
    ("notices", "rep_id"): lambda s: s.rep_a_id,
    ("letters", "ref"): lambda s: s.case_a,
    ("letters", "template_id"): lambda s: s.letter_template_id,
    ("letters", "letter_id"): lambda s: s.letter_a_id,
    ("evidence", "reference"): lambda s: s.evidence_a,
    ("evidence", "region_id"): lambda s: s.london_id,
    ("api", "reference"): lambda s: s.evidence_a,
    ("api_tokens", "token_id"): lambda s: s.api_token_id,
    ("briefings", "ref"): lambda s: s.briefing,
    ("briefings", "section_id"): lambda s: s.section_id,
    ("briefings", "item_id"): lambda s: s.question_item_id,
    ("briefings", "question_id"): lambda s: s.bank_question_id,
    ("briefings", "direction"): lambda s: "down",
    ("briefings", "number"): lambda s: 1,
    ("briefings", "testimony_id"): lambda s: s.testimony_a_id,
    ("briefings", "key"): lambda s: "n1",
    ("evidence.batch", "reference"): lambda s: s.batch,
    ("evidence.batch_verify", "reference"): lambda s: s.batch,
    ("evidence.batch_revert", "reference"): lambda s: s.batch,
    ("evidence", "code"): lambda s: "wmt_percent_avg",
    ("jobs", "job_id"): lambda s: s.rep_a_job_id,
    ("privacy", "reference"): lambda s: s.access_request,
    ("privacy", "member_id"): lambda s: s.member_a_id,
}

# The same arguments naming region B's records, for the routes reps must not reach across.
OTHER_REGION: dict[tuple[str, str], Argument] = {
    ("regions", "region_id"): lambda s: s.wales_id,
    ("cases", "ref"): lambda s: s.case_b,
    ("cases", "attachment_id"): lambda s: s.attachment_b_id,
    ("cases", "member_id"): lambda s: s.member_b_id,
    ("cases", "deadline_id"): lambda s: s.deadline_b_id,
    ("notices", "ref"): lambda s: s.notice_b,
    ("notices", "rep_id"): lambda s: s.rep_b_id,
    ("letters", "ref"): lambda s: s.case_b,
    ("evidence", "reference"): lambda s: s.evidence_b,
    ("evidence", "region_id"): lambda s: s.wales_id,
    ("api", "reference"): lambda s: s.evidence_b,
}

# Query strings a route needs to answer at all.
QUERIES: dict[str, str] = {
    "api.statistics": "metric=wmt_percent_avg&on=2026-02-01&level=region",
}

# And naming records that do not exist at all.
MISSING: dict[str, object] = {
    "ref": "CASE-2099-9999",
    "reference": "EV-99999",
    "region_id": 2_147_483_000,
    "attachment_id": 2_147_483_000,
    "member_id": 2_147_483_000,
    "session_id": 2_147_483_000,
    "type_id": 2_147_483_000,
    "deadline_id": 2_147_483_000,
    "rep_id": 2_147_483_000,
    "template_id": 2_147_483_000,
    "letter_id": 2_147_483_000,
}
MISSING_BY_BLUEPRINT: dict[tuple[str, str], object] = {
    ("notices", "ref"): "FN-2099-9999",
}


def _argument(table: dict[tuple[str, str], Argument], rule: Rule, name: str) -> Argument | None:
    blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else rule.endpoint
    return table.get((rule.endpoint, name)) or table.get((blueprint, name))


def example_url(rule: Rule, scene: Scene, *, other_region: bool = False, missing: bool = False) -> str:
    """A URL for ``rule`` naming region A's records (region B's, or missing ones)."""
    values: dict[str, object] = {}
    blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else rule.endpoint
    for name in sorted(rule.arguments):
        source = _argument(ARGUMENTS, rule, name)
        assert source is not None, (
            f"{rule.endpoint}: no example value for <{name}>; add one to ARGUMENTS in tests/security/routes.py"
        )
        if other_region and (alternative := _argument(OTHER_REGION, rule, name)) is not None:
            source = alternative
        value = source(scene)
        if missing and name in MISSING:
            value = MISSING_BY_BLUEPRINT.get((blueprint, name), MISSING[name])
        values[name] = value
    url = rule.rule
    for name, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", quote(str(value), safe="/"), url)
    query = QUERIES.get(rule.endpoint)
    return f"{url}?{query}" if query else url


def takes_other_region(rule: Rule) -> bool:
    """The rule addresses a record that belongs to a region."""
    return any(_argument(OTHER_REGION, rule, name) is not None for name in rule.arguments)


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def every_route(app) -> Iterator[tuple[Rule, str]]:
    """Each (rule, method) the app answers, in a stable order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in methods_of(rule):
            yield rule, method
