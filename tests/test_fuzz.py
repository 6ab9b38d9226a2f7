"""Generated requests against the app's own OpenAPI description (schemathesis): no input may produce a 5xx, and every
answer must be one the description allows (status, content type and body). A real key and a real user token are
sent, so requests reach the handlers; a bounded number of examples per operation keeps the run short."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from app.main import create_app
from app.services import Services
from tests.conftest import Tenant, make_settings

EXAMPLES = 20


@pytest.fixture
def fuzzed_app(tenant: Tenant) -> Iterator[tuple[Any, Tenant]]:
    """An app of its own, driven from the test client's event loop (the session's engines belong to another)."""
    settings_ = make_settings()
    services = Services.build(settings_)
    app = create_app(settings_, services)
    with TestClient(app):  # runs the lifespan, so the app's pools close afterwards
        yield app, tenant


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _fuzz(operation: Any, headers: dict[str, str], sent: list[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        sent.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    run()


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(fuzzed_app: Any) -> None:
    app, tenant = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures: list[str] = []
    sent: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        headers = tenant.user_headers if operation.path.startswith("/api/api-keys") else tenant.key_headers
        try:
            _fuzz(operation, headers, sent)
        except Exception as exc:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert operations >= 30 and len(sent) >= operations * 5  # the run reached every operation, many times
    assert {200, 201, 400, 404} <= set(sent)  # and got past the checks into the handlers
