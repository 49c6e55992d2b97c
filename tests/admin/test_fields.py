"""Event forms follow the domain's schema: every field of every recordable type gets an input."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.admin.fields import FROZEN, form_fields, recordable_types
from app.admin.forms import FormErrors, field_for_path, read_fields
from app.domain.events import DEAL_KINDS, EVENT_TYPES

RECORDABLE = [*recordable_types("org"), *(f"{kind}.reported" for kind in DEAL_KINDS)]


@pytest.mark.parametrize("type_name", [*RECORDABLE, "organization.registered", "deal.opened"])
def test_every_field_of_the_schema_has_an_input(type_name: str) -> None:
    names = [field.name for field in form_fields(type_name)]
    expected = [n for n in EVENT_TYPES[type_name].fields if n not in FROZEN.get(type_name, ())]
    assert names == expected


def test_inputs_follow_how_the_domain_checks_each_field() -> None:
    widgets = {f.name: f for f in form_fields("investment.reported")}
    assert widgets["amount"].widget == "money" and widgets["amount"].label == "Amount"
    assert widgets["amount_basis"].label == "Basis"
    assert widgets["status"].choices[-1] == "called_off"
    assert widgets["stake_percent"].widget == "percent"
    partnership = {f.name: f.widget for f in form_fields("partnership.reported")}
    assert partnership == {
        "status": "select",
        "name": "text",
        "scope": "checkboxes",
        "terms": "terms",
    }
    announced = {f.name: f.widget for f in form_fields("organization.announced")}
    assert announced["related"] == "orgs" and announced["figures"] == "figures"


def test_reading_a_form_turns_typed_text_into_event_data() -> None:
    form = MultiDict(
        [
            ("status", "announced"),
            ("scope", "compute"),
            ("scope", "datacenter"),
            ("terms", "power_gw: 2.2\nlocation: 울산"),
            ("name", "  "),
        ]
    )
    errors = FormErrors()
    data = read_fields(form_fields("partnership.reported"), form, errors)
    assert data == {
        "status": "announced",
        "scope": ["compute", "datacenter"],
        "terms": {"power_gw": "2.2", "location": "울산"},
    }
    assert not errors
    read_fields(form_fields("partnership.reported"), MultiDict({"terms": "no colon"}), errors)
    assert "terms" in errors


def test_domain_error_paths_land_next_to_their_inputs() -> None:
    known = {"amount", "status", "terms", "investor"}
    assert field_for_path("data.amount_text", known) == ("amount", "")
    assert field_for_path("data.changes.amount", known) == ("amount", "")
    assert field_for_path("source.publisher", known) == ("source_publisher", "")
    assert field_for_path("occurred_at", known) == ("occurred", "")
    assert field_for_path("data.parties.investor", known) == ("investor", "")
    assert field_for_path("data.terms.power_gw", known) == ("terms", "power_gw")
    assert field_for_path("data.unknown", known) == ("", "data.unknown")
