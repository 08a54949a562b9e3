import httpx

from notifier.app import create_app
from notifier.compose import build_services
from notifier.settings import Settings


async def test_healthz_and_readyz_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


async def test_readyz_is_503_naming_the_database_when_it_does_not_answer(
    settings: Settings,
) -> None:
    # Port 9 on loopback: nothing listens there.
    broken = settings.model_copy(update={"database_url": "postgresql://nobody@127.0.0.1:9/none"})
    services = build_services(broken)
    app = create_app(services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")
        assert (await c.get("/healthz")).status_code == 200
    await services.engine.dispose()
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unavailable")
