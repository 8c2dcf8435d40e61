"""Property-based API testing: schemathesis generates requests from /api/v1/openapi.json and
checks every answer: no 5xx, documented status codes, content types and response schemas."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.schema import openapi_document
from tests.conftest import build_app, dispose, make_booking, make_slot

OPERATIONS = [(path, method.upper()) for path, methods in openapi_document()["paths"].items()
              for method in methods]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    app = build_app(f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}")
    with app.app_context():
        for _ in range(5):
            make_slot()
        make_booking()
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    dispose(app)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_api_answers_match_the_schema_and_never_5xx(api_schema, path, method):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        response = case.call()
        assert response.status_code < 500, response.text
        case.validate_response(response, checks=[
            status_code_conformance, content_type_conformance, response_schema_conformance,
            negative_data_rejection,
        ])

    check()
