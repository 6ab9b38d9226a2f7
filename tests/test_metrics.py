"""`/metrics`: Prometheus's format, route templates as labels, and nobody reads it without the configured token."""

from __future__ import annotations

import uuid

from tests.conftest import IS_POSTGRES, app_client, make_tenant

TOKEN = "metrics-reader-0123456789"


async def test_requests_are_counted_by_route_template_and_status_for_the_token_holder_only():
    async with app_client(metrics_token=TOKEN) as (client, services):
        tenant = await make_tenant(services)
        h = tenant.key_headers
        for _ in range(2):
            assert (await client.get("/api/courses", headers=h)).status_code == 200
        for _ in range(3):  # three different ids: one series
            assert (await client.get(f"/api/learners/{uuid.uuid4()}", headers=h)).status_code == 404
        for method in ("BREW", "TEAPOT", "X-1"):  # made-up methods share one series
            await client.request(method, "/api/courses", headers=h)
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 404
        page = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
        text = page.text
        assert 'coursepipeline_requests_total{method="GET",route="/api/courses",status="200"} 2.0' in text
        assert 'coursepipeline_requests_total{method="GET",route="/api/learners/{learner_id}",status="404"} 3.0' in text
        assert 'coursepipeline_request_duration_seconds_count{method="GET",route="/api/courses"} 2.0' in text
        assert 'method="other",route="/api/courses",status="405"} 3.0' in text and "BREW" not in text
        assert "coursepipeline_fast_execution" in text and "coursepipeline_engine_fallbacks_total" in text
        if IS_POSTGRES and services.graphql.fast:  # the driver pool exists with the engine on only
            assert "coursepipeline_db_pool_size" in text


async def test_without_a_token_configured_metrics_are_not_served():
    async with app_client() as (client, _):
        assert (await client.get("/metrics", headers={"Authorization": "Bearer anything"})).status_code == 404
