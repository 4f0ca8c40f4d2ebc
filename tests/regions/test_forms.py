"""Region and unit forms alone."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from napo_tracker.regions.forms import RegionForm, UnitForm
from napo_tracker.regions.models import UnitKind

OFF = {"csrf": False}


def test_a_region_needs_a_plain_name_of_reasonable_length(app):
    with app.test_request_context(method="POST"):
        good = RegionForm(formdata=MultiDict({"name": "  North East "}), meta=OFF)
        assert good.validate() and good.name.data == "North East"
        for bad in ("", "x" * 121, "Evil\u202eName", "tab\there"):
            assert not RegionForm(formdata=MultiDict({"name": bad}), meta=OFF).validate(), bad


def test_a_unit_is_one_of_the_kinds_the_union_names(app):
    with app.test_request_context(method="POST"):
        form = UnitForm(formdata=MultiDict({"name": "Tyneside", "kind": "pdu"}), meta=OFF)
        assert form.validate()
        assert [choice.value for choice in form.kind.choices] == [kind.value for kind in UnitKind]
        assert not UnitForm(formdata=MultiDict({"name": "Tyneside", "kind": "castle"}), meta=OFF).validate()
