"""Event types and the checks an append must pass, as the domain spec states them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.envelope import PRECISIONS, NewEvent, RecordedEvent
from app.domain.events import (
    CREATION_TYPES,
    CURRENT_SCHEMA_VERSIONS,
    EVENT_TYPES,
    SLUG_RE,
    ValidationFailed,
    check_against_stream,
    normalize_new_event,
    referenced_orgs,
    register_upcaster,
    slugify,
    unregister_upcaster,
    upcast,
)

WHEN = datetime(2024, 3, 27, tzinfo=UTC)
SOURCE = {"publisher": "Yonhap", "url": "https://example.com/a", "attribution": "official"}


def slug(prefix: str = "t") -> str:
    """Return a random id, so tests never share streams or organizations."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new(type_: str, data: dict[str, Any], **envelope: Any) -> NewEvent:
    """Build an event to append, with a valid time and a source unless overridden."""
    envelope.setdefault("occurred_at", WHEN)
    envelope.setdefault("source", SOURCE)
    return NewEvent(type=type_, data=data, **envelope)


def recorded(stream_id: str, version: int, type_: str, data: dict[str, Any]) -> RecordedEvent:
    """Build a stored event of a stream."""
    return RecordedEvent(
        position=version,
        event_id=uuid.uuid4(),
        stream_id=stream_id,
        version=version,
        type=type_,
        schema_version=1,
        data=data,
        source=SOURCE,
        metadata={},
        occurred_at=WHEN,
        occurred_precision="day",
        recorded_at=WHEN + timedelta(days=version),
    )


def refused(stream_id: str, event: NewEvent) -> dict[str, list[str]]:
    """Return the errors normalize_new_event raises for an event it must refuse."""
    with pytest.raises(ValidationFailed) as caught:
        normalize_new_event(stream_id, event)
    return caught.value.errors


def refused_in_stream(
    stream_id: str, event: NewEvent, stream: list[RecordedEvent], orgs: set[str]
) -> dict[str, list[str]]:
    """Return the errors check_against_stream raises for an event it must refuse."""
    with pytest.raises(ValidationFailed) as caught:
        check_against_stream(stream_id, event, stream, orgs)
    return caught.value.errors


ENVELOPE = {"occurred_at", "occurred_precision", "source", "schema_version", "event_id"}


def investment(**fields: Any) -> NewEvent:
    """An investment report, completed tranche unless overridden; envelope fields go there."""
    envelope = {k: v for k, v in fields.items() if k in ENVELOPE}
    data = {k: v for k, v in fields.items() if k not in ENVELOPE}
    data = {"status": "completed", "amount_basis": "tranche", **data}
    return new("investment.reported", data, **envelope)


@pytest.fixture
def deal() -> Iterator[tuple[str, list[RecordedEvent], set[str]]]:
    """A deal stream with its deal.opened event, and the registered parties."""
    investor, investee, deal_id = slug("investor"), slug("investee"), slug("deal")
    stream_id = f"deal:{deal_id}"
    opened = recorded(
        stream_id,
        1,
        "deal.opened",
        {
            "kind": "investment",
            "title": "Helix invests in Nova",
            "parties": {"investor": investor, "investee": investee},
        },
    )
    yield stream_id, [opened], {investor, investee}


# The catalogue


def test_catalogue_has_every_type_of_the_spec() -> None:
    assert set(EVENT_TYPES) == {
        "organization.registered",
        "organization.renamed",
        "organization.alias_added",
        "organization.figure_reported",
        "organization.announced",
        "deal.opened",
        "investment.reported",
        "partnership.reported",
        "acquisition.reported",
        "event.corrected",
        "event.retracted",
    }
    assert CREATION_TYPES == {"org": "organization.registered", "deal": "deal.opened"}
    assert all(CURRENT_SCHEMA_VERSIONS[name] == 1 for name in EVENT_TYPES)


# Schema checks


def test_valid_investment_report_is_normalized() -> None:
    event = investment(amount={"amount": "1250000000.00", "currency": "USD"}, stake_percent="12.50")
    normalized = normalize_new_event(f"deal:{slug()}", event)
    assert normalized.data["amount"] == {"amount": "1250000000", "currency": "USD"}
    assert normalized.data["stake_percent"] == "12.5"
    assert normalized.source == SOURCE


def test_unknown_type_is_refused() -> None:
    errors = refused(f"deal:{slug()}", new("investment.rumoured", {}))
    assert list(errors) == ["type"]
    assert "investment.reported" in errors["type"][0]


def test_type_of_the_other_stream_kind_is_refused() -> None:
    errors = refused(f"org:{slug()}", investment())
    assert errors["type"] == ["investment.reported cannot be appended to an organization stream"]


def test_malformed_stream_id_is_refused() -> None:
    errors = refused("deal:Helix Nova", investment())
    assert list(errors) == ["stream_id"]


def test_missing_required_field_is_refused() -> None:
    errors = refused(f"deal:{slug()}", new("investment.reported", {}))
    assert errors == {"data.status": ["required"]}


def test_mistyped_field_is_refused() -> None:
    errors = refused(f"org:{slug()}", new("organization.renamed", {"name": 42}, source=None))
    assert errors == {"data.name": ["must be text"]}


def test_bad_enum_lists_the_allowed_values() -> None:
    errors = refused(f"deal:{slug()}", investment(status="done"))
    assert errors["data.status"] == [
        "'done' is not allowed; must be one of: "
        "rumored, considering, in_talks, agreed, completed, called_off"
    ]


def test_unknown_data_field_is_refused() -> None:
    errors = refused(f"deal:{slug()}", investment(amout={"amount": "1", "currency": "USD"}))
    assert errors == {"data.amout": ["unknown field"]}


def test_float_amount_is_refused() -> None:
    errors = refused(f"deal:{slug()}", investment(amount={"amount": 1.25e9, "currency": "USD"}))
    assert errors == {
        "data.amount.amount": ['must be a decimal string such as "1.25", not a number']
    }


def test_negative_amount_is_refused() -> None:
    errors = refused(f"deal:{slug()}", investment(amount={"amount": "-5", "currency": "USD"}))
    assert errors == {"data.amount.amount": ["must not be negative"]}


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e9", "12,5", "1E+999999999"])
def test_amount_that_is_not_a_plain_decimal_is_refused(text: str) -> None:
    errors = refused(f"deal:{slug()}", investment(amount={"amount": text, "currency": "USD"}))
    assert errors == {"data.amount.amount": [f"'{text}' is not a decimal number"]}


def test_absurdly_large_amount_is_refused() -> None:
    amount = {"amount": "1" + "0" * 40, "currency": "USD"}
    errors = refused(f"deal:{slug()}", investment(amount=amount))
    assert list(errors) == ["data.amount.amount"]


def test_currency_must_be_an_iso_code() -> None:
    errors = refused(f"deal:{slug()}", investment(amount={"amount": "5", "currency": "dollars"}))
    assert list(errors) == ["data.amount.currency"]
    assert "ISO 4217" in errors["data.amount.currency"][0]


def test_percentage_above_100_is_refused() -> None:
    errors = refused(f"deal:{slug()}", investment(stake_percent="100.5"))
    assert errors == {"data.stake_percent": ["must be between 0 and 100"]}


def test_amount_without_basis_is_refused() -> None:
    errors = refused(
        f"deal:{slug()}",
        new("investment.reported", {"status": "agreed", "amount_text": "$8 billion"}),
    )
    assert list(errors) == ["data.amount_basis"]


def test_report_without_amount_needs_no_basis() -> None:
    normalize_new_event(f"deal:{slug()}", new("investment.reported", {"status": "considering"}))


def test_every_problem_is_reported_at_once() -> None:
    event = NewEvent(
        type="investment.reported",
        data={"status": "maybe", "amount": {"amount": "x", "currency": "USD"}},
        occurred_at=None,
        occurred_precision="week",
    )
    errors = refused(f"deal:{slug()}", event)
    assert set(errors) == {
        "data.status",
        "data.amount.amount",
        "occurred_at",
        "occurred_precision",
        "source.publisher",
    }


def test_occurred_at_must_be_aware() -> None:
    errors = refused(f"deal:{slug()}", investment(occurred_at=datetime(2024, 3, 27)))
    assert list(errors) == ["occurred_at"]


def test_coarse_precision_must_start_its_period_in_the_writers_zone() -> None:
    seoul = timezone(timedelta(hours=9))
    normalize_new_event(
        f"deal:{slug()}",
        investment(occurred_at=datetime(2024, 3, 1, tzinfo=seoul), occurred_precision="month"),
    )
    errors = refused(
        f"deal:{slug()}",
        investment(occurred_at=datetime(2024, 3, 15, tzinfo=seoul), occurred_precision="month"),
    )
    assert errors == {
        "occurred_at": [
            "with precision 'month' must be the start of the month: 2024-03-01T00:00:00+09:00"
        ]
    }


def test_terms_are_a_flat_object_of_short_facts() -> None:
    event = new(
        "partnership.reported",
        {"status": "announced", "scope": ["compute", "chips"], "terms": {"power_gw": "2.2"}},
    )
    assert normalize_new_event(f"deal:{slug()}", event).data["terms"] == {"power_gw": "2.2"}
    nested = new("partnership.reported", {"status": "announced", "terms": {"power": {"gw": 2}}})
    assert list(refused(f"deal:{slug()}", nested)) == ["data.terms.power"]


def test_overlong_text_is_refused() -> None:
    errors = refused(f"deal:{slug()}", investment(note="x" * 20001))
    assert errors == {"data.note": ["must be at most 20000 characters (it has 20001)"]}


# Parties of a new deal


def test_investor_and_investee_must_differ() -> None:
    event = new(
        "deal.opened",
        {"kind": "investment", "title": "t", "parties": {"investor": "a", "investee": "a"}},
    )
    assert refused(f"deal:{slug()}", event) == {
        "data.parties.investee": ["must differ from the investor"]
    }


def test_parties_must_fit_the_kind_of_deal() -> None:
    event = new(
        "deal.opened",
        {"kind": "acquisition", "title": "t", "parties": {"investor": "a", "investee": "b"}},
    )
    errors = refused(f"deal:{slug()}", event)
    assert set(errors) == {
        "data.parties.investor",
        "data.parties.investee",
        "data.parties.acquirer",
        "data.parties.target",
    }


def test_partnership_needs_two_distinct_members() -> None:
    data = {"kind": "partnership", "title": "t", "parties": {"members": ["a", "a"]}}
    errors = refused(f"deal:{slug()}", new("deal.opened", data))
    assert errors == {"data.parties.members.1": ["'a' is listed twice"]}
    data["parties"] = {"members": ["a"]}
    assert list(refused(f"deal:{slug()}", new("deal.opened", data))) == ["data.parties.members"]


def test_party_ids_must_be_slugs() -> None:
    data = {"kind": "investment", "title": "t", "parties": {"investor": "Helix", "investee": "b"}}
    assert list(refused(f"deal:{slug()}", new("deal.opened", data))) == ["data.parties.investor"]


# Sources


def test_deal_event_without_source_publisher_is_refused() -> None:
    errors = refused(f"deal:{slug()}", investment(source={"url": "https://example.com/a"}))
    assert errors == {"source.publisher": ["required: name the outlet that reported this"]}
    assert list(refused(f"deal:{slug()}", investment(source=None))) == ["source.publisher"]


def test_organization_event_without_source_is_accepted() -> None:
    event = new("organization.registered", {"name": "Nova Labs", "kind": "company"}, source=None)
    assert normalize_new_event(f"org:{slug()}", event).source is None


def test_attribution_defaults_to_reported() -> None:
    normalized = normalize_new_event(f"deal:{slug()}", investment(source={"publisher": "Reuters"}))
    assert normalized.source == {"publisher": "Reuters", "attribution": "reported"}


def test_source_fields_are_checked() -> None:
    source = {
        "publisher": "Reuters",
        "attribution": "gossip",
        "published_at": "2024-03-27T10:00:00",
        "url": "ftp://x",
        "editor": "me",
    }
    errors = refused(f"deal:{slug()}", investment(source=source))
    assert set(errors) == {
        "source.attribution",
        "source.published_at",
        "source.url",
        "source.editor",
    }


@pytest.mark.parametrize(
    "published_at", ["2024-03-27", "2024-03-27T10:00:00Z", "2024-03-27T19:00+09:00"]
)
def test_published_at_is_a_date_or_a_time_with_a_zone(published_at: str) -> None:
    source = {"publisher": "Reuters", "published_at": published_at}
    normalize_new_event(f"deal:{slug()}", investment(source=source))


# Amounts typed as text


def test_amount_text_is_parsed_and_kept() -> None:
    normalized = normalize_new_event(f"deal:{slug()}", investment(amount_text="80억달러"))
    assert normalized.data["amount"] == {"amount": "8000000000", "currency": "USD"}
    assert normalized.data["amount_text"] == "80억달러"


def test_amount_text_without_currency_is_refused_with_the_reason() -> None:
    errors = refused(f"deal:{slug()}", investment(amount_text="80억"))
    assert list(errors) == ["data.amount_text"]
    assert "currency" in errors["data.amount_text"][0]


def test_amount_and_amount_text_that_disagree_are_refused() -> None:
    event = investment(amount={"amount": "8000000000", "currency": "KRW"}, amount_text="80억달러")
    errors = refused(f"deal:{slug()}", event)
    assert list(errors) == ["data.amount"]


def test_amount_and_amount_text_that_agree_are_accepted() -> None:
    event = investment(amount={"amount": "8000000000", "currency": "USD"}, amount_text="$8 billion")
    assert normalize_new_event(f"deal:{slug()}", event).data["amount_text"] == "$8 billion"


def test_figure_value_may_be_money_text_or_a_bare_decimal() -> None:
    org = f"org:{slug()}"
    money = new("organization.figure_reported", {"metric": "valuation", "value_text": "€300m"})
    headcount = new("organization.figure_reported", {"metric": "headcount", "value": "1200"})
    assert normalize_new_event(org, money).data["value"] == {
        "amount": "300000000",
        "currency": "EUR",
    }
    assert normalize_new_event(org, headcount).data["value"] == "1200"


# Korean names and ids


def test_korean_names_and_aliases_are_accepted() -> None:
    event = new(
        "organization.registered",
        {"name": "노바랩스", "kind": "company", "country": "KR", "aliases": ["Nova Labs", "노바"]},
        source=None,
    )
    normalized = normalize_new_event(f"org:{slug()}", event)
    assert normalized.data["name"] == "노바랩스"
    assert normalized.data["aliases"] == ["Nova Labs", "노바"]
    alias = new("organization.alias_added", {"alias": "노바랩스", "language": "ko"}, source=None)
    assert normalize_new_event(f"org:{slug()}", alias).data == {
        "alias": "노바랩스",
        "language": "ko",
    }


def test_slugify_latin_names() -> None:
    assert slugify("Nova Labs") == "nova-labs"
    assert slugify("  Société Générale S.A. ") == "societe-generale-s-a"
    assert slugify("Ørsted & Co.") == "orsted-co"
    assert SLUG_RE.fullmatch(slugify("x" * 200))


def test_slugify_korean_names_is_stable_and_distinct() -> None:
    nova = slugify("노바랩스")
    assert SLUG_RE.fullmatch(nova) and nova.startswith("org-")
    assert slugify("노바랩스") == nova
    # The same name typed in decomposed jamo (as macOS sends it) gives the same id.
    assert slugify("\u1102\u1169\u1107\u1161\u1105\u1162\u11b8\u1109\u1173") == nova
    assert slugify("헬릭스클라우드") != nova
    assert slugify("노바랩스 AI").startswith("ai-")
    assert slugify("노바랩스", prefix="deal").startswith("deal-")


@given(st.text())
def test_slugify_always_gives_a_valid_id(name: str) -> None:
    assert SLUG_RE.fullmatch(slugify(name))


# Rules that need the stream


def test_first_event_must_create_the_stream() -> None:
    errors = refused_in_stream(f"deal:{slug()}", investment(), [], set())
    assert errors == {"type": [errors["type"][0]]}
    assert "deal.opened" in errors["type"][0]


def test_second_creation_event_is_refused(deal: tuple[str, list[RecordedEvent], set[str]]) -> None:
    stream_id, stream, orgs = deal
    again = new("deal.opened", dict(stream[0].data))
    assert list(refused_in_stream(stream_id, again, stream, orgs)) == ["type"]


def test_parties_must_be_registered() -> None:
    investor, investee = slug("investor"), slug("investee")
    event = new(
        "deal.opened",
        {
            "kind": "investment",
            "title": "t",
            "parties": {"investor": investor, "investee": investee},
        },
    )
    assert referenced_orgs(event) == {investor, investee}
    errors = refused_in_stream(f"deal:{slug()}", event, [], {investor})
    assert errors == {"data.parties.investee": [f"organization '{investee}' is not registered"]}
    check_against_stream(f"deal:{slug()}", event, [], {investor, investee})


def test_related_and_counterparty_must_be_registered() -> None:
    stream_id, known = f"org:{slug()}", slug("known")
    stream = [recorded(stream_id, 1, "organization.registered", {"name": "N", "kind": "company"})]
    event = new(
        "organization.announced",
        {"headline": "Nova expands", "related": [known, "ghost-co"]},
        source=None,
    )
    assert referenced_orgs(event) == {known, "ghost-co"}
    errors = refused_in_stream(stream_id, event, stream, {known})
    assert errors == {"data.related.1": ["organization 'ghost-co' is not registered"]}


def test_valid_report_passes_the_stream_checks(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs = deal
    check_against_stream(stream_id, investment(), stream, orgs)


# Corrections and retractions


def correction(target: uuid.UUID | str, changes: dict[str, Any], **envelope: Any) -> NewEvent:
    """A correction of `target` with the given changes."""
    data = {"target_event_id": str(target), "changes": changes, "reason": "misread the article"}
    return new("event.corrected", data, occurred_at=None, **envelope)


def retraction(target: uuid.UUID | str, **envelope: Any) -> NewEvent:
    """A retraction of `target`."""
    data = {"target_event_id": str(target), "reason": "the report was wrong"}
    return new("event.retracted", data, occurred_at=None, **envelope)


def with_report(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> tuple[str, list[RecordedEvent], set[str], RecordedEvent]:
    """The deal stream with one completed tranche of 2.75B USD typed as text."""
    stream_id, stream, orgs = deal
    report = recorded(
        stream_id,
        2,
        "investment.reported",
        {
            "status": "completed",
            "amount": {"amount": "2750000000", "currency": "USD"},
            "amount_text": "$2.75 billion",
            "amount_basis": "tranche",
        },
    )
    return stream_id, [*stream, report], orgs, report


def test_correction_is_normalized_and_accepted(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs, report = with_report(deal)
    event = normalize_new_event(stream_id, correction(report.event_id, {"amount_text": "25억달러"}))
    assert event.data["changes"] == {
        "amount": {"amount": "2500000000", "currency": "USD"},
        "amount_text": "25억달러",
    }
    check_against_stream(stream_id, event, stream, orgs)


def test_corrected_amount_drops_the_old_wording(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs, report = with_report(deal)
    changes = {"amount": {"amount": "2500000000", "currency": "USD"}}
    event = normalize_new_event(stream_id, correction(report.event_id, changes))
    assert event.data["changes"] == {**changes, "amount_text": None}
    check_against_stream(stream_id, event, stream, orgs)


def test_correction_of_a_missing_target_is_refused(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs = deal
    missing = uuid.uuid4()
    event = correction(missing, {"status": "agreed"})
    errors = refused_in_stream(stream_id, event, stream, orgs)
    assert errors == {"data.target_event_id": [f"there is no event {missing} in {stream_id}"]}


def test_correction_of_a_retracted_target_is_refused(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs, report = with_report(deal)
    retracted = recorded(
        stream_id, 3, "event.retracted", {"target_event_id": str(report.event_id), "reason": "x"}
    )
    event = correction(report.event_id, {"status": "agreed"})
    errors = refused_in_stream(stream_id, event, [*stream, retracted], orgs)
    assert list(errors) == ["data.target_event_id"]
    assert "retracted" in errors["data.target_event_id"][0]
    again = refused_in_stream(stream_id, retraction(report.event_id), [*stream, retracted], orgs)
    assert list(again) == ["data.target_event_id"]


def test_correction_of_a_correction_is_refused(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs, report = with_report(deal)
    first = recorded(
        stream_id,
        3,
        "event.corrected",
        {"target_event_id": str(report.event_id), "changes": {"status": "agreed"}, "reason": "x"},
    )
    event = correction(first.event_id, {"reason": "y"})
    assert list(refused_in_stream(stream_id, event, [*stream, first], orgs)) == [
        "data.target_event_id"
    ]


def test_correction_changing_the_type_is_refused(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs, report = with_report(deal)
    event = correction(report.event_id, {"type": "acquisition.reported"})
    errors = refused_in_stream(stream_id, event, stream, orgs)
    assert list(errors) == ["data.changes.type"]


def test_correction_changing_the_parties_is_refused(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs = deal
    investee = slug("investee")
    changes = {
        "parties": {"investor": sorted(orgs)[0], "investee": investee},
        "kind": "acquisition",
    }
    event = correction(stream[0].event_id, changes)
    errors = refused_in_stream(stream_id, event, stream, orgs | {investee})
    assert set(errors) == {"data.changes.parties", "data.changes.kind"}


def test_correction_of_a_deal_title_is_accepted(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs = deal
    check_against_stream(stream_id, correction(stream[0].event_id, {"title": "t2"}), stream, orgs)


def test_correction_whose_merged_data_is_invalid_is_refused(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs, report = with_report(deal)
    event = correction(report.event_id, {"status": "finished", "amount_basis": None, "foo": "1"})
    errors = refused_in_stream(stream_id, event, stream, orgs)
    assert set(errors) == {"data.changes.status", "data.changes.amount_basis", "data.changes.foo"}


def test_retraction_of_the_creating_event_is_refused(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs = deal
    errors = refused_in_stream(stream_id, retraction(stream[0].event_id), stream, orgs)
    assert list(errors) == ["data.target_event_id"]


def test_retraction_of_a_report_is_accepted(
    deal: tuple[str, list[RecordedEvent], set[str]],
) -> None:
    stream_id, stream, orgs, report = with_report(deal)
    event = normalize_new_event(stream_id, retraction(report.event_id))
    check_against_stream(stream_id, event, stream, orgs)


def test_correction_on_a_deal_stream_needs_a_source() -> None:
    errors = refused(f"deal:{slug()}", correction(uuid.uuid4(), {"status": "agreed"}, source=None))
    assert list(errors) == ["source.publisher"]


def test_correction_on_an_organization_stream_needs_no_source() -> None:
    event = correction(uuid.uuid4(), {"name": "Nova"}, source=None)
    assert normalize_new_event(f"org:{slug()}", event).source is None


def test_correction_must_change_something_and_give_a_reason() -> None:
    event = new(
        "event.corrected",
        {"target_event_id": "not-a-uuid", "changes": {}, "reason": " "},
        occurred_at=None,
    )
    errors = refused(f"deal:{slug()}", event)
    assert set(errors) == {"data.target_event_id", "data.changes", "data.reason"}


# Upcasting


def test_upcasters_bring_old_data_to_the_current_version() -> None:
    type_ = f"test.{uuid.uuid4().hex[:8]}"

    @register_upcaster(type_, 1)
    def rename_headline(data: dict[str, Any]) -> dict[str, Any]:
        return {"headline": data.pop("title"), **data}

    try:
        assert CURRENT_SCHEMA_VERSIONS[type_] == 2
        assert upcast(type_, 1, {"title": "x"}) == (2, {"headline": "x"})
        assert upcast(type_, 2, {"headline": "x"}) == (2, {"headline": "x"})
    finally:
        unregister_upcaster(type_, 1)
    assert upcast(type_, 1, {"title": "x"}) == (1, {"title": "x"})


def test_future_schema_version_is_refused() -> None:
    errors = refused(f"deal:{slug()}", investment(schema_version=2))
    assert list(errors) == ["schema_version"]


# Anything a client sends is either accepted or refused with field errors


REPORT_ID = uuid.UUID("6f1c2a9e-0000-4000-8000-000000000001")
EXAMPLES: dict[str, dict[str, Any]] = {
    "organization.registered": {
        "name": "노바랩스",
        "kind": "company",
        "country": "KR",
        "website": "https://nova.example",
        "aliases": ["Nova Labs", "노바"],
    },
    "organization.renamed": {"name": "Nova"},
    "organization.alias_added": {"alias": "노바", "language": "ko"},
    "organization.figure_reported": {
        "metric": "valuation",
        "value_text": "$8 billion",
        "counterparty": "helix-cloud",
    },
    "organization.announced": {
        "headline": "Nova opens a lab in Seoul",
        "summary": "…",
        "related": ["helix-cloud"],
        "figures": [{"metric": "headcount", "value": "1200", "unit": "people"}],
    },
    "deal.opened": {
        "kind": "investment",
        "title": "Helix invests in Nova",
        "parties": {"investor": "helix-cloud", "investee": "nova-labs"},
    },
    "investment.reported": {
        "status": "completed",
        "amount_text": "80억달러",
        "amount_basis": "tranche",
        "instrument": "convertible_note",
        "stake_percent": "12.5",
        "stake_cap_percent": "49",
        "valuation": {"amount": "61500000000", "currency": "USD"},
        "note": "first tranche",
    },
    "partnership.reported": {
        "status": "announced",
        "name": "Stargate Seoul",
        "scope": ["compute", "datacenter"],
        "terms": {"power_gw": "2.2", "location": "Pohang"},
    },
    "acquisition.reported": {"status": "agreed", "price_text": "£1.2bn", "stake_percent": "100"},
    "event.corrected": {
        "target_event_id": str(REPORT_ID),
        "changes": {"amount_text": "25억달러", "status": "agreed"},
        "reason": "misread the article",
    },
    "event.retracted": {"target_event_id": str(REPORT_ID), "reason": "the report was wrong"},
}


def example_stream(type_: str) -> str:
    """Return a stream id of a kind the type may be appended to."""
    return "org:nova-labs" if "org" in EVENT_TYPES[type_].stream_kinds else "deal:helix-nova"


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_every_type_has_an_accepted_example(type_: str) -> None:
    normalized = normalize_new_event(example_stream(type_), new(type_, EXAMPLES[type_]))
    assert normalize_new_event(example_stream(type_), normalized) == normalized


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_plausible = st.one_of(
    _json,
    st.sampled_from(
        ["8000000000", "-1", "NaN", "80억달러", "80억", "$8 billion", "nova-labs", "1e9", "노바"]
    ),
    st.sampled_from(["investment", "partnership", "completed", "tranche", "USD", "official"]),
    st.fixed_dictionaries({"amount": _json | st.just("12.5"), "currency": _json | st.just("USD")}),
    st.fixed_dictionaries({"investor": _json, "investee": _json}),
    st.fixed_dictionaries({"members": st.lists(st.text(max_size=6), max_size=3)}),
    st.builds(lambda example: dict(example), st.sampled_from(list(EXAMPLES.values()))),
)
_keys = st.sampled_from(
    sorted({key for example in EXAMPLES.values() for key in example} | {"amount", "price"})
)


@st.composite
def _data(draw: st.DrawFn, type_: str) -> Any:
    """Data for `type_`: its example with fields dropped or replaced, or anything at all."""
    if type_ not in EXAMPLES or draw(st.integers(0, 9)) == 0:
        return draw(_json)
    data = dict(EXAMPLES[type_])
    for key in draw(st.lists(_keys | st.text(max_size=8), max_size=3)):
        if draw(st.booleans()):
            data.pop(key, None)
        else:
            data[key] = draw(_plausible)
    if isinstance(data.get("changes"), dict) and draw(st.booleans()):
        data["changes"] = {**data["changes"], draw(_keys): draw(_plausible)}
    return data


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    type_=st.sampled_from(sorted(EVENT_TYPES)) | st.text(max_size=12),
    stream_id=st.sampled_from(["org:nova-labs", "deal:helix-nova", "deal:", "x:y"]) | st.text(),
    source=st.just(SOURCE) | st.none() | st.fixed_dictionaries({"publisher": _plausible}) | _json,
    occurred_at=st.just(WHEN) | st.none() | st.datetimes() | st.datetimes(timezones=st.timezones()),
    precision=st.sampled_from(PRECISIONS) | st.text(max_size=5),
    draw=st.data(),
)
def test_arbitrary_input_is_accepted_or_refused_with_field_errors(
    type_: str,
    stream_id: str,
    source: Any,
    occurred_at: datetime | None,
    precision: str,
    draw: st.DataObject,
) -> None:
    if type_ in EVENT_TYPES and draw.draw(st.booleans()):
        stream_id = example_stream(type_)
    event = NewEvent(
        type=type_,
        data=draw.draw(_data(type_)),
        source=source,
        occurred_at=occurred_at,
        occurred_precision=precision,
    )
    try:
        normalized = normalize_new_event(stream_id, event)
    except ValidationFailed as failed:
        assert failed.errors and all(isinstance(m, list) and m for m in failed.errors.values())
        return
    assert normalize_new_event(stream_id, normalized) == normalized
    opened = recorded(stream_id, 1, "deal.opened", EXAMPLES["deal.opened"])
    report = replace(
        recorded(stream_id, 2, "investment.reported", EXAMPLES["investment.reported"]),
        event_id=REPORT_ID,
    )
    for stream in ([], [opened], [opened, report]):
        with contextlib.suppress(ValidationFailed):
            check_against_stream(stream_id, normalized, stream, {"nova-labs", "helix-cloud"})
