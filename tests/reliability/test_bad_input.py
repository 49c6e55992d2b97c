"""Bad input of every kind gets a 4xx problem+json and writes nothing; what is accepted reads back whole.

Schemathesis drives the API statefully (links it infers from the OpenAPI document:
create an organization, then read and append to it); a Hypothesis fuzzer mutates
append bodies; a table pins the nastiest inputs found.
"""

from __future__ import annotations

import json
import math
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text
from werkzeug.test import TestResponse

from tests.api.helpers import SOURCE, investment, new_deal, register_org

PROBLEM = "application/problem+json"
FUZZ_EXAMPLES = 250
STATEFUL_SCENARIOS = 40


def head(app: Flask) -> int:
    """Return the log's head position."""
    with app.extensions["dealtracker"].engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(position), 0) FROM events")).scalar_one())


def assert_refused_or_accepted_whole(
    client: FlaskClient, headers: dict[str, str], response: TestResponse, before: int, after: int
) -> None:
    """A refusal is a 4xx problem and writes nothing; an acceptance reads back without error."""
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body
    if response.status_code >= 400:
        assert response.mimetype == PROBLEM, body
        problem = response.get_json()
        assert problem["status"] == response.status_code
        assert "Traceback" not in body
        assert after == before, f"a refused request ({response.status_code}) wrote events"
        return
    location = response.headers.get("Location", "")
    stream = location.rsplit("/events/", 1)[0] if "/events/" in location else ""
    for path in (location, stream, f"{stream}/events") if stream else (location,):
        if path.startswith("/api/v1/"):
            read = client.get(path, headers=headers)
            assert read.status_code == 200, (path, read.get_data(as_text=True))


# --- schemathesis, stateful --------------------------------------------------------------


def _content_type(response: Any) -> str:
    """Return a schemathesis response's Content-Type, whatever the case of its header names."""
    for name, values in response.headers.items():
        if name.lower() == "content-type":
            return str(values[0] if isinstance(values, list) else values)
    return ""


def test_stateful_sequences_never_get_a_server_error_and_refusals_write_nothing(
    app: Flask, editor: dict[str, str]
) -> None:
    client = app.test_client()
    register_org(client, editor, "Seed Holdings")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            if case.operation.path == "/api/v1/events/stream":
                case.query = {**(case.query or {}), "max_seconds": 0}
            elif case.query and "wait" in case.query:
                case.query["wait"] = 0
            self.head_before = head(app)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": editor}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            status = response.status_code
            text_body = response.text
            assert status < 500, f"{case.method} {case.formatted_path}: {status} {text_body[:300]}"
            if status >= 400 and case.operation.path not in ("/openapi.json",):
                assert _content_type(response).startswith(PROBLEM), (
                    f"{case.method} {case.formatted_path}: {status} is not problem+json"
                )
                assert head(app) == self.head_before, (
                    f"{case.method} {case.formatted_path} was refused with {status} but wrote events"
                )

    Scenario.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


# --- a Hypothesis fuzzer on append bodies -----------------------------------------------------

SQL_AND_KOREAN = [
    "'; DROP TABLE events; --",
    '" OR 1=1 --',
    "%_\\",
    "$$; SELECT pg_sleep(10); $$",
    "삼성전자 80억달러 투자",
    "네이버 ' OR '1'='1",
    "\x00",
    "a\x00b",
    "\ud800",
    "\u202e\u200b",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]
NASTY_DATES = [
    "0000-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "10000-01-01",
    "2024-02-30",
    "-0001-01-01T00:00:00Z",
    "2024-03-27T25:61:61Z",
    "2024-03-27T00:00:00",
    "1e10",
]
NASTY_NUMBERS = [10**30, -(10**30), 2**63, -1, -(2**31), math.nan, math.inf, -math.inf, 1e308, -0.0]


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value} if depth % 2 else [value]
    return value


nasty_values = st.one_of(
    st.sampled_from(SQL_AND_KOREAN),
    st.sampled_from(NASTY_DATES),
    st.sampled_from(NASTY_NUMBERS),
    st.sampled_from([None, True, False, [], {}, "", " ", "null"]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.text(alphabet="가나다라마바사아자차카타파하억원달러", min_size=1, max_size=30),
    st.integers(min_value=1, max_value=1500).map(nested),
    st.integers(min_value=1000, max_value=200_000).map(lambda n: "ㄱ" * n),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """Return a copy of the document with the value at path replaced."""
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


@st.composite
def mutated_bodies(draw: st.DrawFn, bases: list[tuple[str, dict[str, Any]]]) -> tuple[str, bytes]:
    """Take a valid write and break it: a value replaced, a key added, or the bytes themselves."""
    url, base = draw(st.sampled_from(bases))
    how = draw(st.sampled_from(["replace", "replace", "replace", "add", "bytes"]))
    document: Any = base
    if how == "replace":
        path = draw(st.sampled_from(paths(base)))
        document = replaced(base, path, draw(nasty_values))
    elif how == "add":
        where = draw(st.sampled_from([p for p in paths(base) if isinstance(_at(base, p), dict)]))
        key = draw(st.sampled_from(["extra", *SQL_AND_KOREAN[:6]]))
        document = replaced(base, where, {**_at(base, where), key: draw(nasty_values)})
    else:
        raw = json.dumps(base).encode()
        cut = draw(st.integers(0, len(raw)))
        junk = draw(st.sampled_from([b"", b"\xff", b"\xed\xa0\x80", b"}", b",", b"NaN", b"\x00"]))
        return url, raw[:cut] + junk + raw[cut + draw(st.integers(0, 3)) :]
    return url, json.dumps(document).encode()


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@pytest.fixture
def targets(client: FlaskClient, editor: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Valid writes to mutate: appends to a deal and an organization, a batch, creates, amendments."""
    investor, _, deal_id = new_deal(client, editor)
    reported = client.post(f"/api/v1/deals/{deal_id}/events", json=investment(), headers=editor)
    event_id = reported.get_json()["event_id"]
    alias = {
        "type": "organization.alias_added",
        "occurred_at": "2024-03-27",
        "occurred_precision": "day",
        "data": {"alias": "헬릭스", "language": "ko"},
    }
    return [
        (f"/api/v1/deals/{deal_id}/events", investment()),
        (f"/api/v1/organizations/{investor}/events", alias),
        ("/api/v1/batches", {"events": [{"stream_id": f"deal:{deal_id}", **investment()}]}),
        ("/api/v1/organizations", {"name": "Fuzz Corp", "kind": "company", "aliases": ["퍼즈"]}),
        (
            f"/api/v1/events/{event_id}/corrections",
            {"changes": {"status": "announced"}, "reason": "r"},
        ),
        (f"/api/v1/events/{event_id}/retractions", {"reason": "wrong", "source": SOURCE}),
    ]


def test_fuzzed_append_bodies_get_a_4xx_problem_and_write_nothing(
    app: Flask, client: FlaskClient, editor: dict[str, str], targets: list[Any]
) -> None:
    @given(write=mutated_bodies(targets))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def refused_or_whole(write: tuple[str, bytes]) -> None:
        url, body = write
        before = head(app)
        headers = {**editor, "Content-Type": "application/json"}
        response = client.post(url, data=body, headers=headers)
        assert_refused_or_accepted_whole(client, editor, response, before, head(app))

    refused_or_whole()


# --- the nastiest inputs, pinned ---------------------------------------------------------


def append(occurred_at: Any = "2024-03-27T00:00:00Z", **source: Any) -> dict[str, Any]:
    return {**investment(occurred_at=occurred_at), "source": {**SOURCE, **source}}


PINNED: dict[str, tuple[bytes, dict[str, str]]] = {
    "a date beyond the last UTC day": (
        json.dumps(append("9999-12-31T23:59:59-14:00")).encode(),
        {},
    ),
    "a date before the first UTC day": (
        json.dumps(append("0001-01-01T00:00:00+14:00")).encode(),
        {},
    ),
    "JSON nested a thousand deep": (b'{"a":' * 1000 + b"1" + b"}" * 1000, {}),
    "an array nested a hundred thousand deep": (b"[" * 100_000 + b"]" * 100_000, {}),
    "a body of three megabytes": (json.dumps(append(title="가" * 1_500_000)).encode(), {}),
    "a NUL inside a text field": (json.dumps(append(title="a\x00b")).encode(), {}),
    "a lone surrogate": (b'{"type": "investment.reported", "data": {"status": "\\ud800"}}', {}),
    "invalid UTF-8": (b'{"type": "\xff\xfe"}', {}),
    "NaN and Infinity": (b'{"type": "investment.reported", "data": NaN, "x": Infinity}', {}),
    "a number with a million digits": (
        b'{"type": "investment.reported", "expected_version": ' + b"9" * 1_000_000 + b"}",
        {},
    ),
    "a NUL in the Idempotency-Key": (json.dumps(append()).encode(), {"Idempotency-Key": "a\x00b"}),
    "an XML body": (b"<event/>", {"Content-Type": "application/xml"}),
}


@pytest.mark.parametrize("name", list(PINNED))
def test_nasty_append_bodies_get_a_4xx_problem(
    app: Flask, client: FlaskClient, editor: dict[str, str], name: str
) -> None:
    _, _, deal_id = new_deal(client, editor)
    body, extra = PINNED[name]
    headers = {**editor, "Content-Type": "application/json", **extra}
    before = head(app)
    response = client.post(f"/api/v1/deals/{deal_id}/events", data=body, headers=headers)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert_refused_or_accepted_whole(client, editor, response, before, head(app))


def test_sql_and_korean_text_in_every_string_field_is_stored_exactly_or_refused(
    app: Flask, client: FlaskClient, editor: dict[str, str], targets: list[Any]
) -> None:
    values = [v for v in SQL_AND_KOREAN if "\x00" not in v and "\ud800" not in v]
    tried = stored_exactly = 0
    for url, base in targets:
        for path in paths(base):
            if not isinstance(_at(base, path), str):
                continue
            for value in values:
                before = head(app)
                response = client.post(url, json=replaced(base, path, value), headers=editor)
                assert_refused_or_accepted_whole(client, editor, response, before, head(app))
                tried += 1
                location = response.headers.get("Location", "")
                if response.status_code == 201 and "/events/" in location:
                    event = client.get(location, headers=editor).get_json()
                    if path[0] in ("data", "source"):
                        assert _at(event, path) == value, (url, path)
                        stored_exactly += 1
    assert tried > 100
    assert stored_exactly > 0
