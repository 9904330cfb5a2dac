"""Out-of-range input is a 4xx naming the field, never a 500 (issue 18, item 6): far-off dates and months,
integers beyond 64 bits, a body that is not even UTF-8 or nests too deep; and the disclosure CSV cannot
carry a spreadsheet formula. Against the real database and broker."""

import csv
import io

from tests.helpers import permit_application, post
from tests.integration.test_accreditation_service import (  # noqa: F401 - fixtures
    PLANS,
    accreditation,
    application,
    registry,
    upstream,
)

SO = "/v1/supervising-organizations"
PUBLIC = "/v1/public/administrative-actions"


def refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


async def test_a_body_that_is_not_utf8_or_nests_too_deep_is_422_naming_the_body(start_service, token):
    so_registry = await start_service("registry")
    officer = {**token("otit"), "content-type": "application/json"}
    for content in (b'{"name": "Sakura \xff"}', b"[" * 5_000 + b"]" * 5_000):
        answer = await so_registry.post(SO, headers=officer, content=content)
        refused(answer, "body")
        assert answer.json()["errors"][0]["field"] == "body"
        assert answer.json()["type"].endswith("/invalid-request")


async def test_far_off_months_dates_and_points_in_time_are_422_naming_the_parameter(start_service, token):
    so_registry = await start_service("registry")
    plans = await start_service("accreditation")
    inspection = await start_service("inspection")
    officer = token("otit")

    for month in ("0000-01", "0001-12", "9999-12", "2200-01"):
        for client, path in (
            (plans, "/v1/statistics/trainees-in-progress"),
            (plans, "/v1/statistics/plans-certified"),
            (inspection, "/v1/statistics/inspections"),
        ):
            refused(await client.get(path, params={"from": month}, headers=officer), "query.from")
            refused(await client.get(path, params={"to": month}, headers=officer), "query.to")

    id = (await post(so_registry, SO, permit_application(), officer, 201))["id"]
    for as_of in ("0001-01-01", "9999-12-31", "0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-09:00"):
        refused(await so_registry.get(f"{SO}/{id}", params={"as_of": as_of}, headers=officer), "query.as_of")
    assert (await so_registry.get(f"{SO}/{id}", params={"as_of": "2199-12-31"}, headers=officer)).status_code == 200

    # A grant on the last day there is (a permit's years cannot be added to it), an order due on it.
    grant = {"permit_type": "general", "meets_excellence_standard": True, "granted_on": "9999-12-31"}
    refused(await so_registry.post(f"{SO}/{id}/grant", json=grant, headers=officer), "body.granted_on")
    await post(so_registry, f"{SO}/{id}/grant", {**grant, "granted_on": "2026-05-01"}, officer)
    order = {"issued_on": "2026-06-10", "deadline": "9999-12-31", "reason": "wages unpaid"}
    refused(await so_registry.post(f"{SO}/{id}/improvement-orders", json=order, headers=officer), "body.deadline")
    # Check: nothing of it was recorded.
    assert (await so_registry.get(f"{SO}/{id}", headers=officer)).json()["version"] == 2


async def test_an_integer_beyond_64_bits_in_a_body_is_422_naming_the_field(accreditation, registry, token):  # noqa: F811 - fixtures
    officer = token("otit", subject="officer-ito")
    orgs = await registry.organizations(accreditation)
    for wage in (2**64, 2**63, -(2**64)):
        answer = await accreditation.client.post(PLANS, json=application(orgs, monthly_wage=wage), headers=officer)
        refused(answer, "body.monthly_wage")
    plans = (await accreditation.client.get(PLANS, headers=officer)).json()["items"]
    assert plans == []


async def test_the_disclosure_csv_escapes_cells_a_spreadsheet_would_run_as_a_formula(start_service, token):
    so_registry = await start_service("registry")
    officer = token("otit")
    names = ['=HYPERLINK("http://evil.example","click")', "+1+2", "-3+4", "@SUM(A1:A2)"]
    for name in names:
        id = (await post(so_registry, SO, permit_application(name=name), officer, 201))["id"]
        await post(
            so_registry,
            f"{SO}/{id}/grant",
            {"permit_type": "general", "meets_excellence_standard": True, "granted_on": "2026-05-01"},
            officer,
        )
        order = {"issued_on": "2026-06-10", "deadline": "2026-09-10", "reason": "wages unpaid"}
        await post(so_registry, f"{SO}/{id}/improvement-orders", order, officer)

    answer = await so_registry.get(PUBLIC, params={"format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted(row["name"] for row in rows) == sorted(f"'{name}" for name in names)
    # Check: the JSON, which no spreadsheet runs, keeps the names as filed.
    assert sorted(item["name"] for item in (await so_registry.get(PUBLIC)).json()["items"]) == sorted(names)
