"""Erasing a member at their request (UK GDPR article 17), and applying erasures again after
a restore from an older backup.

What goes: the member's name, membership number, e-mail and phone; the free text, timeline
text and attachments of their cases; their individual notices' free text, manager's name and
letter; their name on collective notices. What stays, as anonymised facts, so that regional
figures stay true: the member's row (pseudonym, region, unit, grade), every case and notice
with its category, place, workload figures, status and dates.

A member who also holds an account (the member's e-mail is an account's e-mail: a rep is
often a member too) is handled explicitly: the admin must choose to keep the account or to
deactivate it, and the erasure is refused until they do. The account itself is never erased
here: its name and address stand in the audit log as the person who did union work, which
the union must be able to account for; deactivating it ends its sessions at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext, ngettext
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.services import account_for_email, deactivate_account
from ..audit.models import AuditAction, record
from ..cases.models import Case, Member
from ..cases.services import anonymise_case, wipe_member
from ..extensions import db
from ..kernel import clock
from ..kernel.errors import DomainError
from ..kernel.labels import LabelledEnum
from ..notices.models import ForeseeabilityNotice, notice_members
from ..notices.services import anonymise_notice, unlink_member
from ..testimonies.models import Testimony
from ..testimonies.services import withdraw
from . import tombstones
from .models import ErasureTombstone, TombstoneKind


class PrivacyError(DomainError):
    """A request about members' data that cannot be carried out; the message says why."""


class AccountChoice(LabelledEnum):
    """What happens to the account of a member who is also an account holder."""

    KEEP = "keep", "Keep the account: they still work for the union (their name stays in the audit log)"
    DEACTIVATE = "deactivate", "Deactivate the account: its sessions end at once (their name stays in the audit log)"


@dataclass
class ErasurePlan:
    """What erasing a member will change, shown before it is done."""

    member: Member
    cases: list[Case] = field(default_factory=list)
    own_notices: list[ForeseeabilityNotice] = field(default_factory=list)
    named_on: list[ForeseeabilityNotice] = field(default_factory=list)
    account: User | None = None
    attachments: int = 0  # counted when planned: erasing deletes them

    def lines(self) -> list[str]:
        """The plan in words (the command prints it; the page shows the same)."""
        # The English keeps its "(s)"; ngettext gives a translator each plural form.
        lines = [
            gettext("%(pseudonym)s: name, membership number, e-mail and phone wiped", pseudonym=self.member.pseudonym),
            ngettext("%(num)d case(s) anonymised", "%(num)d case(s) anonymised", len(self.cases))
            + ", "
            + ngettext("%(num)d attachment(s) deleted", "%(num)d attachment(s) deleted", self.attachments)
            + ": "
            + _references(self.cases),
            ngettext(
                "%(num)d notice(s) of theirs anonymised",
                "%(num)d notice(s) of theirs anonymised",
                len(self.own_notices),
            )
            + ": "
            + _references(self.own_notices),
            ngettext(
                "taken off %(num)d collective notice(s)", "taken off %(num)d collective notice(s)", len(self.named_on)
            )
            + ": "
            + _references(self.named_on),
        ]
        if self.account is not None:
            state = gettext("active") if self.account.is_active else gettext("already deactivated")
            lines.append(
                gettext(
                    "the member also holds an account (%(email)s, %(state)s): choose keep or deactivate",
                    email=self.account.email,
                    state=state,
                )
            )
        return lines


def _references(records: list[Any]) -> str:
    return ", ".join(item.reference for item in records) or gettext("none")


def plan_erasure(member: Member) -> ErasurePlan:
    own = list(
        db.session.scalars(
            select(ForeseeabilityNotice)
            .where(ForeseeabilityNotice.member_id == member.id)
            .order_by(ForeseeabilityNotice.reference)
        )
    )
    named = list(
        db.session.scalars(
            select(ForeseeabilityNotice)
            .join(notice_members, notice_members.c.notice_id == ForeseeabilityNotice.id)
            .where(notice_members.c.member_id == member.id, ForeseeabilityNotice.member_id.is_distinct_from(member.id))
            .order_by(ForeseeabilityNotice.reference)
        )
    )
    cases = list(db.session.scalars(select(Case).where(Case.member_id == member.id).order_by(Case.reference)))
    attachments = sum(len(case.attachments) for case in cases)
    return ErasurePlan(member, cases, own, named, account_for_email(member.email), attachments)


def erase_member(
    actor: User | None, member: Member, *, account: str | None = None, reason: str = "the member's request"
) -> ErasurePlan:
    """Erase a member's identity and keep their cases and notices as anonymised facts (see the
    module's docstring), in one transaction; attachments are removed once it commits. A member
    who also holds an account needs ``account`` ('keep' or 'deactivate'). A tombstone lets a
    restore from an older backup apply the erasure again."""
    if member.is_erased:
        raise PrivacyError(f"{member.pseudonym} was already erased on {member.erased_on:%-d %B %Y}.")
    plan = plan_erasure(member)
    choice: AccountChoice | None = None
    if plan.account is not None:
        if not AccountChoice.has_value(account):
            raise PrivacyError(
                f"{member.pseudonym} also holds an account ({plan.account.email}). Choose whether to keep it "
                "(they still work for the union) or deactivate it: --account keep or --account deactivate.",
                "account",
            )
        choice = AccountChoice(str(account))
    for case in plan.cases:
        anonymise_case(actor, case, reason=reason)
    for notice in plan.own_notices:
        anonymise_notice(actor, notice, reason=reason)
    for notice in plan.named_on:
        unlink_member(actor, notice, member, reason=reason)
    number = member.membership_number
    wipe_member(member)
    if plan.account is not None and choice is AccountChoice.DEACTIVATE and plan.account.is_active:
        deactivate_account(actor, plan.account, reason="erased as a member", member=member.pseudonym)
    tombstones.add(
        TombstoneKind.MEMBER,
        member.id,
        member.erased_on or clock.today(),
        membership_number=number,
        account_action=None if choice is None else ("deactivated" if choice is AccountChoice.DEACTIVATE else "kept"),
        account_id=None if plan.account is None else plan.account.id,
    )
    record(
        actor,
        AuditAction.MEMBER_ERASED,
        ("members", member.pseudonym),
        reason=reason,
        cases=len(plan.cases),
        notices=len(plan.own_notices),
        collective_notices=len(plan.named_on),
        attachments=plan.attachments,
        account=None if choice is None else choice.value,
    )
    return plan


# ---------------------------------------------------------------------------- after a restore


@dataclass
class Reapplied:
    members: int = 0
    testimonies: int = 0
    tombstones_added: int = 0


def reapply(lines: list[dict[str, Any]], *, progress: Callable[[int], Any] | None = None) -> Reapplied:
    """Apply every tombstone again to a database restored from a backup: a member found by id or
    by their number's keyed hash and not yet erased is erased again (their account as chosen
    then); a testimony not yet withdrawn is withdrawn again (which erases the briefing versions
    quoting it). Tombstones the restored database lacks are laid again. The caller commits."""
    done = Reapplied()
    hashed: dict[str, Member] | None = None
    for line in lines:
        # Laid first, so that erasing again keeps the day of the original erasure.
        if _lay_again(line):
            done.tombstones_added += 1
        if line["kind"] == TombstoneKind.MEMBER:
            member = db.session.get(Member, line["record_id"])
            if (member is None or member.is_erased) and line.get("number_hash"):
                if hashed is None:
                    hashed = _members_by_number_hash()
                member = hashed.get(line["number_hash"], member)
            if member is not None and not member.is_erased:
                _erase_again(member, line)
                done.members += 1
        elif line["kind"] == TombstoneKind.TESTIMONY:
            testimony = db.session.get(Testimony, line["record_id"])
            if testimony is not None and not testimony.is_withdrawn:
                withdraw(testimony, today=clock.today())
                done.testimonies += 1
        if progress is not None:
            progress(1)
    if done.members or done.testimonies:
        record(None, AuditAction.ERASURE_REAPPLIED, None, members=done.members, testimonies=done.testimonies)
    return done


def _members_by_number_hash() -> dict[str, Member]:
    members = db.session.scalars(select(Member).where(Member.membership_number.is_not(None)))
    return {tombstones.number_hash(m.membership_number): m for m in members if m.membership_number}


def _erase_again(member: Member, line: dict[str, Any]) -> None:
    account = None
    if line.get("account_action"):
        account = "deactivate" if line["account_action"] == "deactivated" else "keep"
    plan = plan_erasure(member)
    if plan.account is not None and account is None:
        account = "keep"  # the account was not the member's then: leave it as it is
    erase_member(None, member, account=account, reason="re-applied after a restore from a backup")
    if line.get("account_action") == "deactivated" and line.get("account_id"):
        user = db.session.get(User, line["account_id"])
        if user is not None and user.is_active:
            deactivate_account(None, user, reason="erased as a member (re-applied after a restore)")


def _lay_again(line: dict[str, Any]) -> bool:
    exists = db.session.scalar(
        select(ErasureTombstone.id).where(
            ErasureTombstone.kind == line["kind"], ErasureTombstone.record_id == line["record_id"]
        )
    )
    if exists is not None:
        return False
    db.session.add(
        ErasureTombstone(
            kind=line["kind"],
            record_id=line["record_id"],
            number_hash=line.get("number_hash"),
            erased_on=date.fromisoformat(str(line["erased_on"])),
            account_action=line.get("account_action"),
            account_id=line.get("account_id"),
        )
    )
    db.session.flush()
    return True
