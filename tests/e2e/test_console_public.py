"""The console's public disclosure page and its charts, against the real services (REST, Kafka, PostgreSQL): the
console reaches each service in-process through its ASGI app, as it would over HTTP.

Anyone reads the administrative actions without signing in, filtered and as CSV; officers look at plans certified
and inspections as charts with the same figures in a table.
"""

import csv
import io
from datetime import date
from html.parser import HTMLParser
from uuid import uuid4

import httpx
import pytest

from services.console.app import create_app as create_console
from services.console.settings import ConsoleSettings
from services.registry.projections.disclosure import FIELDS
from shared.dates import add_months
from shared.settings import SERVICES
from tests.e2e.test_accreditation_cross_service import plan_application
from tests.helpers import eventually, group_at_end, post, registered_partners
from tests.helpers import permit_application as application

PAGE = "/public/administrative-actions"
SO = "/v1/supervising-organizations"
PLANS = "/v1/training-plans"
WAIT = 30  # seconds for an effect to cross Kafka into another service
NOWHERE = "http://127.0.0.1:9"  # a service a test does not start: never the stack's own


@pytest.fixture
def start_app(another_database, service_settings, run_service, kafka_bootstrap, unique):
    """start_app(name, **settings) -> (client, app): a service as `start_service` runs it, with its app kept for the
    console's transport."""
    import importlib

    from shared.topics import service_topic

    async def start(name: str, **overrides):
        group = f"test-{name}-{unique}"
        await group_at_end(kafka_bootstrap, group, [service_topic(s) for s in SERVICES])
        settings = service_settings(
            name, await another_database(), consumer_group=group, relay_poll_interval_s=0.2, **overrides
        )
        app = importlib.import_module(f"services.{name}.app").create_app(settings)
        return await run_service(app), app

    return start


@pytest.fixture
def console(tmp_path, dev_keys, run_service):
    """console(**apps) -> a client of the console, which reaches the services given (name=app) in-process and signs
    officers in with the test session's dev issuer."""

    async def start(**apps) -> httpx.AsyncClient:
        (tmp_path / "dev-keys").symlink_to(dev_keys, target_is_directory=True)
        urls = {f"{s}_url": f"http://{s}.in-process" if s in apps else NOWHERE for s in SERVICES}
        settings = ConsoleSettings(data_dir=tmp_path, dev_sign_in=True, **urls)
        transports: dict[str, httpx.AsyncBaseTransport] = {n: httpx.ASGITransport(a) for n, a in apps.items()}
        return await run_service(create_console(settings, transports=transports))

    return start


class Tables(HTMLParser):
    """The text of every cell of every table with an id, row by row."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id"):
            self._table = self.tables.setdefault(dict(attrs)["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(html: str, id: str) -> list[list[str]]:
    return Tables(html).tables[id]


async def sign_in(console: httpx.AsyncClient, role: str, next_page: str) -> None:
    signed = await console.post("/sign-in", data={"role": role, "name": f"officer-{role}", "next": next_page})
    assert signed.status_code == 303 and signed.headers["location"] == next_page, signed.text


async def test_anyone_sees_a_revocation_on_the_public_page_filtered_and_as_csv(start_app, console, token, unique):
    registry, registry_app = await start_app("registry")
    officer = token("otit", subject="officer-ito")

    # The registry, over its REST API: a cooperative in Aichi whose permit is revoked, one in Tokyo given
    # improvement orders, enough of them to fill more than one page.
    aichi_name, tokyo_name = f"Kiso Kensetsu Cooperative {unique}", f"Edo Business Cooperative {unique}"
    aichi = (await post(registry, SO, application(name=aichi_name, prefecture="23"), officer, 201))["id"]
    tokyo = (await post(registry, SO, application(name=tokyo_name, prefecture="13"), officer, 201))["id"]
    for cooperative in (aichi, tokyo):
        await post(
            registry,
            f"{SO}/{cooperative}/grant",
            {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
            officer,
        )
    await post(
        registry,
        f"{SO}/{aichi}/revoke",
        {"revoked_on": "2026-11-01", "ground": "law_breached", "reason": "trainees' passports kept"},
        officer,
    )
    for day in range(1, 26):
        await post(
            registry,
            f"{SO}/{tokyo}/improvement-orders",
            {"issued_on": f"2026-06-{day:02d}", "deadline": "2026-12-25", "reason": "overtime unpaid"},
            officer,
        )
    public = await console(registry=registry_app)

    # Check: without signing in, the page lists the revocation first (the newest), in Japanese by default, the
    # date in the era, and the improvement orders after it.
    listed = await public.get(PAGE)
    assert listed.status_code == 200, listed.text
    rows = table(listed.text, "administrative-actions")
    assert rows[1][:3] == ["令和8年11月1日（2026年）", "許可の取消し", aichi_name]
    assert rows[1][5] == "愛知県"
    assert rows[2][:3] == ["令和8年6月25日（2026年）", "改善命令", tokyo_name]
    assert len(rows) == 1 + 25  # the head, and a page of 25

    # Check: the next page, through the registry's cursor, holds the oldest order; nothing is shown twice.
    assert 'rel="next"' in listed.text
    next_link = listed.text.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    following = await public.get(next_link, headers={"hx-request": "true"})
    assert following.status_code == 200 and "<html" not in following.text  # the table alone, for htmx
    assert [r[:3] for r in table(following.text, "administrative-actions")[1:]] == [
        ["令和8年6月1日（2026年）", "改善命令", tokyo_name]
    ]
    assert 'rel="next"' not in following.text

    # Check: filtered by prefecture and kind of action, in English: only the Aichi revocation.
    filters = {"prefecture": "23", "action": "revocation", "from": "2026-10-01", "to": "2026-11-30", "lang": "en"}
    filtered = await public.get(PAGE, params=filters)
    assert filtered.status_code == 200, filtered.text
    [head, row] = table(filtered.text, "administrative-actions")
    assert head[:6] == ["Action date", "Action", "Name", "Organization type", "Corporate number", "Prefecture"]
    assert row[:6] == ["1 Nov 2026", "Permit revoked", aichi_name, "Supervising organization", row[4], "Aichi"]
    assert row[6:8] == ["Art. 37(1)(iv)", "the Act, immigration or labour law, or an order under them, was breached"]
    assert tokyo_name not in filtered.text
    assert 'value="23" selected' in filtered.text and 'value="revocation" selected' in filtered.text
    assert "trainees' passports kept" not in filtered.text  # the officer's reason is never published
    no_orders = await public.get(PAGE, params={"prefecture": "23", "action": "improvement_order", "lang": "en"})
    assert "Nothing matches." in no_orders.text and aichi_name not in no_orders.text

    # Check: "Download CSV" carries the same filters, and the registry's CSV comes through as an attachment.
    assert 'href="/public/administrative-actions.csv?from=2026-10-01&amp;to=2026-11-30&amp;prefecture=23' in (
        filtered.text
    )
    downloaded = await public.get(f"{PAGE}.csv", params={k: v for k, v in filters.items() if k != "lang"})
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"].startswith("text/csv")
    assert downloaded.headers["content-disposition"].startswith("attachment")
    [header, *lines] = list(csv.reader(io.StringIO(downloaded.text)))
    assert header == list(FIELDS)
    assert len(lines) == 1
    published = dict(zip(header, lines[0], strict=True))
    assert {k: published[k] for k in ("action_date", "action", "name", "prefecture", "legal_basis", "scheme")} == {
        "action_date": "2026-11-01",
        "action": "revocation",
        "name": aichi_name,
        "prefecture": "23",
        "legal_basis": "Art. 37(1)(iv)",
        "scheme": "titp",
    }
    every = list(csv.reader(io.StringIO((await public.get(f"{PAGE}.csv")).text)))
    assert len(every) == 1 + 26  # every match, not a page

    # Check: a date that is no date is the registry's 422, said in words beside the filters; the page still works.
    bad = await public.get(PAGE, params={"from": "2026-02-30", "lang": "en"})
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text and "query.from" in bad.text and "day value is outside expected range" in bad.text
    assert 'name="from" value="2026-02-30"' in bad.text  # what was typed is kept
    backwards = await public.get(PAGE, params={"from": "2026-11-30", "to": "2026-10-01", "lang": "en"})
    assert backwards.status_code == 422 and "must not be before from" in backwards.text
    bad_csv = await public.get(f"{PAGE}.csv", params={"to": "someday", "lang": "en"})
    assert bad_csv.status_code == 422 and bad_csv.headers["content-type"].startswith("text/html")
    assert "query.to" in bad_csv.text
    refreshed = await public.get(PAGE, params={"from": "2026-02-30"}, headers={"hx-request": "true"})
    assert refreshed.status_code == 200 and 'role="alert"' in refreshed.text  # htmx swaps it in place


async def test_officers_see_plans_certified_by_nationality_and_field_as_charts_with_the_figures(
    start_app, console, token, unique
):
    isolated = {"topic_prefix": f"test-{unique}."}  # no other test's permits on this inspection schedule
    registry, registry_app = await start_app("registry", **isolated)
    accreditation, accreditation_app = await start_app("accreditation", **isolated)
    _, inspection_app = await start_app("inspection", **isolated)
    officer = token("otit", subject="officer-mori")
    desk = await console(registry=registry_app, accreditation=accreditation_app, inspection=inspection_app)

    # Check: not signed in, the charts send to the sign-in page and back.
    anonymous = await desk.get("/charts")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/sign-in?next=/charts"

    # The registry grants a permit; accreditation learns the partners from its events, and certifies three
    # plans: two trainees from Viet Nam in June, one from the Philippines in July.
    partners = await registered_partners(registry, officer)
    parties = (partners.supervising, partners.implementing, partners.sending)

    async def certifiable():
        async with accreditation_app.state.pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT count(*) = 1 FROM registry_permits"
                " WHERE supervising_organization_id = $1 AND status = 'active'",
                partners.supervising,
            ) and await conn.fetchval(
                "SELECT count(*) = 1 FROM registry_sending_agreements WHERE id = $1", partners.agreement
            )

    await eventually(certifiable, timeout=WAIT, message="the registry's events never reached accreditation")
    for name, nationality, certified_on in (
        ("Tran Thi Binh", "VN", "2026-06-01"),
        ("Nguyen Van An", "VN", "2026-06-15"),
        ("Maria Santos", "PH", "2026-07-01"),
    ):
        trainee = {"name": name, "date_of_birth": "2002-08-15", "nationality": nationality, "passport_number": "P1"}
        body = plan_application(*parties, trainee_id=str(uuid4()), trainee=trainee)
        plan = (await post(accreditation, PLANS, body, officer, 201))["id"]
        await post(accreditation, f"{PLANS}/{plan}/certify", {"certified_on": certified_on}, officer)

    # Check: signed in as an OTIT officer, the charts of 2026 show the plans by nationality, stacked by month,
    # and the same figures as a table.
    await sign_in(desk, "otit", "/charts?from=2026-01&to=2026-12&lang=en")
    shown = await desk.get("/charts", params={"from": "2026-01", "to": "2026-12", "lang": "en"})
    assert shown.status_code == 200, shown.text
    by_nationality = table(shown.text, "plans-by-nationality-table")
    assert by_nationality[0] == ["Month", "VN", "PH", "Total"]
    assert len(by_nationality) == 1 + 12
    assert by_nationality[6] == ["Jun 2026", "2", "0", "2"]
    assert by_nationality[7] == ["Jul 2026", "0", "1", "1"]
    assert by_nationality[1] == ["Jan 2026", "0", "0", "0"]
    svg = shown.text.split('<figure class="chart" id="plans-by-nationality">', 1)[1].split("</figure>", 1)[0]
    assert 'role="img" aria-labelledby="plans-by-nationality-title plans-by-nationality-desc"' in svg
    assert '<title id="plans-by-nationality-title">Plans certified per month (by nationality)</title>' in svg
    assert "VN 2, PH 1" in svg  # the description says the figures in words
    assert "<title>Jun 2026, VN: 2</title>" in svg and "<title>Jul 2026, PH: 1</title>" in svg

    # Check: by field, the three plans are construction; inspections per quarter have their table too.
    by_field = table(shown.text, "plans-by-job_group-table")
    assert by_field[0] == ["Month", "Construction", "Total"]
    assert by_field[6] == ["Jun 2026", "2", "2"] and by_field[7] == ["Jul 2026", "1", "1"]
    inspections = table(shown.text, "inspections-table")
    assert inspections[0] == ["Quarter", "Done", "Overdue"]
    assert [r[0] for r in inspections[1:]] == ["FY2025 Q4", "FY2026 Q1", "FY2026 Q2", "FY2026 Q3"]
    assert "<script" not in shown.text.split("<main", 1)[1]  # drawn on the server, no chart library

    # Check: by default the last 12 months, this one included.
    this_month = date.today().replace(day=1)
    default = await desk.get("/charts", params={"lang": "en"})
    assert f'name="from" value="{add_months(this_month, -11):%Y-%m}"' in default.text
    assert f'name="to" value="{this_month:%Y-%m}"' in default.text
    assert len(table(default.text, "plans-by-nationality-table")) == 1 + 12

    # Check: a month that is no month is the service's 422 in words, in place of the charts.
    wrong = await desk.get("/charts", params={"from": "2026-13", "lang": "en"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text and "query.from" in wrong.text
    assert 'role="img"' not in wrong.text

    # Check: an immigration officer may not read these statistics: the services' 403, no chart.
    await sign_in(desk, "immigration", "/charts")
    refused = await desk.get("/charts", params={"lang": "en"})
    assert refused.status_code == 200
    assert refused.text.count('role="alert"') == 3 and 'role="img"' not in refused.text
