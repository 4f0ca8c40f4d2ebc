"""One labelled enum in place of an enum beside a dict of labels.

    class CaseStatus(LabelledEnum):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"

A member compares equal to its stored string (it is a ``StrEnum``) and carries the label
people read. ``choices()`` gives the ``(value, label)`` pairs a select field offers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


def N_(text: str) -> str:
    """Marks a label for translation without translating it (``make translations-extract``
    collects it): labels are stored once, in English, and translated where they are shown."""
    return text


class LabelledEnum(StrEnum):
    label: str

    def __new__(cls, value: str, label: str | None = None) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value.replace("_", " ").capitalize()
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """``(value, label)`` for every member, in the order they are declared."""
        return [(member.value, member.label) for member in cls]

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Each stored value's label."""
        return {member.value: member.label for member in cls}

    @classmethod
    def label_of(cls, value: str | None, default: str = "") -> str:
        """The label of a stored value; an unknown value is shown as it is, ``None`` as ``default``."""
        if value is None or value == "":
            return default
        member = cls._value2member_map_.get(value)
        return member.label if isinstance(member, LabelledEnum) else str(value)

    @classmethod
    def has_value(cls, value: object) -> bool:
        return value in cls._value2member_map_
