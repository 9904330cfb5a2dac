"""The officers' console over the real registry (its own database, the real Kafka and PostgreSQL): an officer signs
in, finds a permit application on the dashboard and in the list, grants it through the form the registry's OpenAPI
describes, sees a refusal explained with what was typed kept, and reads the record's history and its state as of a
day. The console talks to the registry only over its REST API, with the officer's own token."""

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.console.app import create_app as create_console
from services.console.settings import ConsoleSettings
from tests.helpers import permit_application, post

BASE = "/v1/supervising-organizations"
JAPAN = ZoneInfo("Asia/Tokyo")


@pytest.fixture
async def registry_app(fresh_database, service_settings, run_service):
    from services.registry.app import create_app

    app = create_app(service_settings("registry", fresh_database))
    client = await run_service(app)
    return app, client


@pytest.fixture
async def console(registry_app, dev_keys, tmp_path):
    """console(role) -> a browser-like client of a console whose registry is the one under test, signed in."""
    app, _ = registry_app
    data = tmp_path / "data"
    data.mkdir()
    (data / "dev-keys").symlink_to(dev_keys)  # the console signs with the key the registry trusts
    console = create_console(ConsoleSettings(data_dir=data), transports={"registry": httpx.ASGITransport(app)})
    clients = []
    async with console.router.lifespan_context(console):

        async def signed_in(role: str | None = "otit", name: str = "Ito Haruka") -> httpx.AsyncClient:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(console), base_url="http://console.test")
            clients.append(client)
            if role:
                answer = await client.post("/sign-in", data={"role": role, "name": name, "next": "/"})
                assert answer.status_code == 303 and answer.headers["location"] == "/"
            return client

        yield signed_in
        for client in clients:
            await client.aclose()


def text(html: str) -> str:
    """The page as words: tags out, spaces folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def value_of(html: str, name: str) -> str:
    found = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*?(?:value="([^"]*)"[^>]*)?>([^<]*)', html)
    assert found, f"no field {name}"
    return unescape(found.group(1) if found.group(1) is not None else found.group(2))


async def test_an_officer_grants_an_application_found_on_the_dashboard(registry_app, console, token):
    _, registry = registry_app
    applied = await post(registry, BASE, permit_application(name="Kibou Kyodo Kumiai"), token("otit"), 201)
    id = applied["id"]

    anonymous = await console(None)
    answer = await anonymous.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?next=/"

    desk = await console("otit")
    dashboard = (await desk.get("/?lang=en")).text
    assert "Applications waiting for a decision" in dashboard
    assert f'href="/records/supervising-organizations/{id}"' in dashboard
    assert "Ito Haruka" in dashboard and "Kibou Kyodo Kumiai" in dashboard
    # The boxes of the services that do not answer say so; the registry's box above still shows.
    assert (
        "the inspection service did not answer" in dashboard and "the accreditation service did not answer" in dashboard
    )

    listed = await desk.get("/records/supervising-organizations", params={"status": "applied"})
    assert listed.status_code == 200 and "Kibou Kyodo Kumiai" in listed.text
    assert 'name="status"' in listed.text and 'name="permit_type"' in listed.text  # the registry's own filters
    assert 'href="/records/supervising-organizations?status=applied&amp;lang=ja" lang="ja"' in listed.text
    none = await desk.get("/records/supervising-organizations", params={"status": "revoked"})
    assert "Kibou Kyodo Kumiai" not in none.text and "Nothing matches." in none.text
    part = await desk.get(
        "/records/supervising-organizations", params={"status": "applied"}, headers={"hx-request": "true"}
    )
    assert "Kibou Kyodo Kumiai" in part.text and "<html" not in part.text  # htmx: the table alone

    record = (await desk.get(f"/records/supervising-organizations/{id}")).text
    assert f'href="/records/supervising-organizations/{id}/grant"' in record
    assert "PermitApplied" in text(record)  # the history, from the registry's audit stream

    form = (await desk.get(f"/records/supervising-organizations/{id}/grant")).text
    assert '<select id="permit_type" name="permit_type" required' in form
    assert 'type="date"' in form and 'for="granted_on"' in form  # every input has its label

    # A date that is no date: the registry's 422 beside the field, what was typed kept, nothing recorded.
    typed = {"permit_type": "specified", "granted_on": "2026-13-45", "idempotency_key": "k-1"}
    refused = await desk.post(f"/records/supervising-organizations/{id}/grant", data=typed)
    assert refused.status_code == 422
    assert 'class="error" id="granted_on-error"' in refused.text
    assert value_of(refused.text, "granted_on") == "2026-13-45"
    assert 'value="specified" selected' in refused.text
    assert (await registry.get(f"{BASE}/{id}", headers=token("otit"))).json()["version"] == 1

    granted = await desk.post(
        f"/records/supervising-organizations/{id}/grant", data={"permit_type": "specified", "granted_on": "2026-11-02"}
    )
    assert granted.status_code == 303
    assert granted.headers["location"] == f"/records/supervising-organizations/{id}?done=grant"
    shown = (await registry.get(f"{BASE}/{id}", headers=token("otit"))).json()
    assert shown["lifecycle"] == "active" and shown["permit_type"] == "specified" and shown["version"] == 2
    after = text((await desk.get(granted.headers["location"] + "&lang=en")).text)
    assert "Recorded." in after and "PermitGranted" in after and "2 Nov 2026" in after

    # Granted twice: the registry's rule refuses it, and the page says so in words with the rule's id.
    again = await desk.post(
        f"/records/supervising-organizations/{id}/grant", data={"permit_type": "general", "granted_on": "2026-11-03"}
    )
    assert again.status_code == 409
    problem = (
        await registry.post(
            f"{BASE}/{id}/grant", json={"permit_type": "general", "granted_on": "2026-11-03"}, headers=token("otit")
        )
    ).json()
    assert problem["rule"] and problem["rule"] in again.text and unescape(problem["detail"]) in unescape(again.text)
    assert value_of(again.text, "granted_on") == "2026-11-03" and 'value="general" selected' in again.text

    # The state as recorded by the end of a day: none the day before it was filed; today's, granted, in Japanese.
    today = datetime.now(JAPAN).date()
    before = (
        await desk.get(
            f"/records/supervising-organizations/{id}", params={"as_of": str(today - timedelta(1)), "lang": "ja"}
        )
    ).text
    assert "まだ記録がありません" in text(before.split('id="state-then"')[1].split("</p>")[0])
    then = (await desk.get(f"/records/supervising-organizations/{id}", params={"as_of": str(today), "lang": "ja"})).text
    assert "active" in text(then.split('id="state-then"')[1].split("</dl>")[0])
    assert "令和8年11月2日" in text(then)  # the grant's day, in the Japanese era


async def test_the_console_offers_only_the_decisions_the_role_may_take_and_refuses_other_sites(
    registry_app, console, token
):
    _, registry = registry_app
    id = (await post(registry, BASE, permit_application(), token("otit"), 201))["id"]

    auditor = await console("auditor")
    record = await auditor.get(f"/records/supervising-organizations/{id}")
    assert record.status_code == 200
    assert "/grant" not in record.text and "/revoke" not in record.text  # x-roles: otit and admin only
    assert "PermitApplied" in record.text  # the record and its history are theirs to read

    immigration = await console("immigration")
    barred = await immigration.get(f"/records/supervising-organizations/{id}")
    assert barred.status_code == 403 and "needs one of the roles" in barred.text  # the registry's own answer

    desk = await console("otit")
    elsewhere = await desk.post(
        f"/records/supervising-organizations/{id}/deny",
        data={"reason": "forged"},
        headers={"origin": "https://elsewhere.example"},
    )
    assert elsewhere.status_code == 403
    assert (await registry.get(f"{BASE}/{id}", headers=token("otit"))).json()["lifecycle"] == "applied"

    assert (await desk.get("/records/no-such-records")).status_code == 404
    signed_out = await desk.post("/sign-out")
    assert signed_out.status_code == 303 and (await desk.get("/")).headers["location"] == "/sign-in?next=/"
