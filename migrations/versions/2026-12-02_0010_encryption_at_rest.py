"""encryption at rest: members' identifying fields, case and notice free text, testimony originals, files

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 15:00:00

Members' names, membership numbers, e-mails and phones; cases' descriptions and outcomes,
their timelines and attachments' names; notices' free text and frozen letters; testimonies'
original words, rejection reasons, follow-up questions and answers: all are encrypted with the
data key (napo_tracker/crypto.py), in place. A keyed hash of the membership number finds a
member and keeps numbers unique. Attachment files are encrypted into new files; the plain ones
are removed once this migration commits (or the new ones, if it rolls back). A small record
written with the key lets the app refuse to start with a key that cannot read the data.

The downgrade decrypts it all back, files included.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

from napo_tracker import crypto

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")
BATCH_SIZE = 500  # rows read at a time: frozen letters are large

# table: the columns encrypted, each with the type it had in clear
ENCRYPTED: dict[str, list[tuple[str, sa.types.TypeEngine]]] = {
    "members": [
        ("name", sa.String(length=120)),
        ("membership_number", sa.String(length=32)),
        ("email", sa.String(length=254)),
        ("phone", sa.String(length=40)),
    ],
    "cases": [("description", sa.Text()), ("outcome", sa.Text())],
    "case_entries": [("body", sa.Text())],
    "case_attachments": [("original_name", sa.String(length=200))],
    "foreseeability_notices": [
        ("concerns_detail", sa.Text()),
        ("letter_wording", sa.Text()),
        ("response_summary", sa.Text()),
        ("letter_pdf", sa.LargeBinary()),
    ],
    "notice_escalations": [("note", sa.Text())],
    "testimonies": [("original_text", sa.Text()), ("rejection_reason", sa.Text())],
    "testimony_follow_ups": [("question", sa.Text()), ("answer", sa.Text())],
}


def upgrade():
    bind = op.get_bind()
    number_hashes = _membership_number_hashes(bind)  # refused before anything is changed
    op.create_table(
        "data_key_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_key_checks")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_members_membership_number"), type_="unique")
        batch_op.add_column(sa.Column("membership_number_hash", sa.String(length=64), nullable=True))
    _alter_types(to_text=True)

    key_checks = sa.table("data_key_checks", sa.column("id", sa.Integer()), sa.column("token", sa.Text()))
    bind.execute(key_checks.insert().values(id=1, token=crypto.encrypt_text(crypto.KEY_CHECK_TEXT)))
    members = sa.table("members", sa.column("id", sa.Integer()), sa.column("membership_number_hash", sa.String()))
    for member_id, hashed in number_hashes.items():
        bind.execute(members.update().where(members.c.id == member_id).values(membership_number_hash=hashed))
    for table, columns in ENCRYPTED.items():
        _convert(bind, table, columns, encrypting=True)
    _convert_files(bind, crypto.encrypt)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_members_membership_number_hash"), ["membership_number_hash"])


def downgrade():
    bind = op.get_bind()
    _convert_files(bind, crypto.decrypt)
    for table, columns in ENCRYPTED.items():
        _convert(bind, table, columns, encrypting=False)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_members_membership_number_hash"), type_="unique")
        batch_op.drop_column("membership_number_hash")
    _alter_types(to_text=False)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_members_membership_number"), ["membership_number"])
    op.drop_table("data_key_checks")


def _alter_types(*, to_text: bool) -> None:
    """Ciphertext is longer than the clear text it replaces: short strings become Text."""
    for table, columns in ENCRYPTED.items():
        short = [
            (name, clear) for name, clear in columns if isinstance(clear, sa.String) and not isinstance(clear, sa.Text)
        ]
        if not short:
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, clear in short:
                batch_op.alter_column(
                    name, existing_type=clear if to_text else sa.Text(), type_=sa.Text() if to_text else clear
                )


def _convert(bind, table_name: str, columns: list[tuple[str, sa.types.TypeEngine]], *, encrypting: bool) -> None:
    table = sa.table(table_name, sa.column("id", sa.Integer()), *(sa.column(name, clear) for name, clear in columns))
    read = sa.select(table.c.id, *(table.c[name] for name, _ in columns)).order_by(table.c.id).limit(BATCH_SIZE)
    write = table.update().where(table.c.id == sa.bindparam("_id")).values({n: sa.bindparam(n) for n, _ in columns})
    last = None
    while rows := bind.execute(read if last is None else read.where(table.c.id > last)).all():
        changes = []
        for row in rows:
            values = {"_id": row[0]}
            for (name, clear), value in zip(columns, row[1:], strict=True):
                is_bytes = isinstance(clear, sa.LargeBinary)
                values[name] = None if value is None else _transform(value, is_bytes, encrypting)
            changes.append(values)
        bind.execute(write, changes)
        last = rows[-1][0]


def _transform(value, is_bytes: bool, encrypting: bool):
    if is_bytes:
        return crypto.encrypt(bytes(value)) if encrypting else crypto.decrypt(bytes(value))
    return crypto.encrypt_text(value) if encrypting else crypto.decrypt_text(value)


def _membership_number_hashes(bind) -> dict[int, str]:
    """Each member's keyed hash of their number; two numbers that differ only in case or spacing
    would be one number from now on, so they are refused."""
    members = sa.table("members", sa.column("id", sa.Integer()), sa.column("membership_number", sa.Text()))
    hashes: dict[str, int] = {}
    for member_id, number in bind.execute(sa.select(members.c.id, members.c.membership_number)).all():
        if not number:
            continue
        hashed = crypto.keyed_hash(number)
        if hashed in hashes:
            raise RuntimeError(
                f"members {hashes[hashed]} and {member_id} have membership numbers that differ only in case or "
                "spacing; correct one of them, then run the upgrade again"
            )
        hashes[hashed] = member_id
    return {member_id: hashed for hashed, member_id in hashes.items()}


def _convert_files(bind, transform: Callable[[bytes], bytes]) -> None:
    """Write each attachment's file again through ``transform`` under a new name, and point its
    record there. The files this transaction replaced go once it commits; the ones it wrote, if
    it rolls back: either way every record names a file that matches it."""
    attachments = sa.table("case_attachments", sa.column("id", sa.Integer()), sa.column("stored_name", sa.String()))
    rows = bind.execute(sa.select(attachments.c.id, attachments.c.stored_name)).all()
    if not rows:
        return
    folder = Path(current_app.config["INSTANCE_FILES_DIR"]).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    replaced: list[Path] = []
    written: list[Path] = []
    _when_done(bind, on_commit=lambda: _remove(replaced), on_rollback=lambda: _remove(written))
    for attachment_id, stored_name in rows:
        old = folder / stored_name
        if not old.is_file():
            logger.warning("case attachment %s: its file %s is missing; left as it is", attachment_id, stored_name)
            continue
        new_name = secrets.token_urlsafe(32)
        new = folder / new_name
        with open(new, "xb") as handle:
            written.append(new)
            handle.write(transform(old.read_bytes()))
            handle.flush()
            os.fsync(handle.fileno())
        replaced.append(old)
        bind.execute(attachments.update().where(attachments.c.id == attachment_id).values(stored_name=new_name))


def _when_done(bind, *, on_commit: Callable[[], None], on_rollback: Callable[[], None]) -> None:
    """Run one of the two when the transaction this migration runs in ends."""
    ended = False

    def end(action: Callable[[], None]) -> Callable[[object], None]:
        def listener(_connection: object) -> None:
            nonlocal ended
            if not ended:
                ended = True
                action()

        return listener

    sa.event.listen(bind, "commit", end(on_commit), once=True)
    sa.event.listen(bind, "rollback", end(on_rollback), once=True)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
