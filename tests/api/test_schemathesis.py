"""Property-based contract test: generated requests for every operation in /openapi.json.

No answer may be a server error, and every answer must match the documented
status's schema and content type (errors are documented as application/problem+json).
The operations are driven one by one with Hypothesis: schemathesis' own pytest
loader relies on pytest internals that pytest 9 no longer has.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.api.conftest import bearer
from tests.api.helpers import new_deal

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 12


def prompt(case: Any) -> None:
    """Make long polls and the live feed return at once."""
    if case.operation.path == "/api/v1/events/stream":
        case.query = {**(case.query or {}), "max_seconds": 0}
    elif case.query and "wait" in case.query:
        case.query["wait"] = 0


def test_every_operation_conforms_to_the_openapi_document(app: Flask, editor_token: str) -> None:
    new_deal(app.test_client(), bearer(editor_token))  # something to read
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = bearer(editor_token)
    tested = []
    for result in api.get_all_operations():
        operation = result.ok()
        tested.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            prompt(case)
            case.call_and_validate(headers=headers, checks=CHECKS)

        conforms()
    assert len(tested) >= 15, tested
