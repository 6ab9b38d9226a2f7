async def test_health_answers_without_credentials(client):
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert "x-ratelimit-limit" not in response.headers


async def test_health_reports_a_dead_database():
    import httpx

    from app.main import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/health")
    assert response.status_code == 503
    assert response.json()["database"]["status"] == "error"
