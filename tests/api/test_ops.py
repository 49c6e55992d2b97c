"""Operations: health, readiness, Prometheus metrics, the OpenAPI document and its docs page."""

from __future__ import annotations

from flask.testing import FlaskClient
from openapi_spec_validator import validate

from tests.api.helpers import new_deal, report


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_metrics_count_requests_latency_appends_and_projection_lag(
    client: FlaskClient, editor: dict[str, str]
) -> None:
    _, _, deal_id = new_deal(client, editor)
    report(client, editor, deal_id)
    client.get(f"/api/v1/deals/{deal_id}", headers=editor)
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert (
        'dealtracker_http_requests_total{method="GET",route="/api/v1/deals/<deal_id>",status="200"}'
        in text
    )
    assert "dealtracker_http_request_duration_seconds_bucket{" in text
    assert 'dealtracker_events_appended_total{type="investment.reported"}' in text
    assert "dealtracker_projection_lag_events 0.0" in text


def test_openapi_document_is_valid_and_covers_the_contract(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    paths = spec["paths"]
    for path, methods in {
        "/api/v1/organizations": {"get", "post"},
        "/api/v1/organizations/{org_id}": {"get"},
        "/api/v1/organizations/{org_id}/events": {"get", "post"},
        "/api/v1/deals": {"get", "post"},
        "/api/v1/deals/{deal_id}": {"get"},
        "/api/v1/deals/{deal_id}/events": {"get", "post"},
        "/api/v1/events": {"get"},
        "/api/v1/events/stream": {"get"},
        "/api/v1/events/{event_id}": {"get"},
        "/api/v1/events/{event_id}/corrections": {"post"},
        "/api/v1/events/{event_id}/retractions": {"post"},
        "/api/v1/batches": {"post"},
    }.items():
        assert methods <= set(paths[path]), path
    summary = paths["/api/v1/deals/{deal_id}"]["get"]["summary"]
    assert summary == "Return a deal's state, now or as of / as known at a time."
    errors = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(errors) == ["application/problem+json"]


def test_docs_page_is_served(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert b"openapi.json" in response.data
