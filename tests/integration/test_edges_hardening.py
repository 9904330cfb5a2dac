"""The HTTP edge under hostile clients (issue 18, items 6 and 7), against the real database and broker:
every out-of-range query parameter and body value of the issue's list is a 4xx problem+json naming it; slow
clients are cut by a real uvicorn server; /readyz names a long transaction and a missing topic."""

import asyncio
import contextlib
import re
import time
import uuid

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient

from bench.harness import free_port
from services.registry.api.schemas import ApplyForSupervisionSupportPermit
from services.registry.app import create_app as create_registry
from shared.kafka import client_options
from shared.settings import SERVICES
from shared.topics import service_topic
from shared.web import serve
from tests.helpers import eventually, grant, permit_application, post

SO = "/v1/supervising-organizations"
SSO = "/v1/supervision-support-organizations"
EVERY_ROLE = ("otit", "admin", "auditor", "immigration")
HUGE = (2**64, -(2**64), 10**30)


def refused(response: httpx.Response, field: str) -> None:
    assert 400 <= response.status_code < 500, (response.request.url, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", response.text
    assert field in [e["field"] for e in response.json().get("errors", [])], (response.request.url, response.json())


def _query_parameters(app) -> list[tuple[str, str, dict]]:
    """(path, name, schema) of every GET route's query parameter, from the service's OpenAPI document."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["in"] == "query":
                found.append((path, parameter["name"], parameter["schema"]))
    return found


def _values(name: str, schema: dict) -> tuple:
    options = schema.get("anyOf", [schema])
    kinds = {o.get("format") or o.get("type") for o in options}
    if "integer" in kinds:
        return HUGE
    if kinds & {"date", "date-time"}:
        return ("0001-01-01", "9999-12-31", "0000-01-01", "9999-12-31T23:59:59-09:00")
    if name in ("from", "to"):  # months of the statistics routes
        return ("0000-01", "9999-12", "0001-01")
    return ()


async def test_no_query_parameter_answers_5xx_and_the_issues_list_is_refused_naming_the_parameter(start_service, token):
    headers = token(*EVERY_ROLE)
    clients = {name: await start_service(name) for name in SERVICES}
    tried, failures = 0, []
    for name, client in clients.items():
        for path, parameter, schema in _query_parameters(client._transport.app):
            url = re.sub(r"{[^}]+}", str(uuid.uuid4()), path)  # any id: the query is checked first
            for value in _values(parameter, schema):
                tried += 1
                answer = await client.get(url, params={parameter: str(value)}, headers=headers)
                # A filter may take a far-off day (nothing matches); what it refuses, it refuses by name.
                if answer.status_code >= 500 or (
                    answer.status_code >= 400
                    and f"query.{parameter}" not in [e["field"] for e in answer.json().get("errors", [])]
                ):
                    failures.append(f"{name} {answer.request.url} {answer.status_code} {answer.text[:300]}")
    assert not failures, "\n".join(failures)
    assert tried >= 60  # Check: the sweep did find the parameters

    # The issue's list: refused, each naming its parameter.
    registry, accreditation, inspection = clients["registry"], clients["accreditation"], clients["inspection"]
    for client in clients.values():
        for huge in HUGE:
            refused(await client.get("/v1/audit/events", params={"after": huge}, headers=headers), "query.after")
        for as_of in ("0001-01-01", "9999-12-31", "9999-12-31T23:59:59-09:00"):
            answer = await client.get(f"/v1/audit/streams/{uuid.uuid4()}", params={"as_of": as_of}, headers=headers)
            refused(answer, "query.as_of")
    for client, path in (
        (accreditation, "/v1/statistics/trainees-in-progress"),
        (accreditation, "/v1/statistics/plans-certified"),
        (inspection, "/v1/statistics/inspections"),
    ):
        for month in ("0000-01", "9999-12"):
            refused(await client.get(path, params={"from": month}, headers=headers), "query.from")
    for year in (*HUGE, 0, 9999):
        answer = await registry.get(
            "/v1/statistics/administrative-actions", params={"from_fiscal_year": year}, headers=headers
        )
        refused(answer, "query.from_fiscal_year")


async def test_huge_integers_far_off_dates_and_malformed_json_in_bodies_are_422_naming_the_field(start_service, token):
    registry = await start_service("registry")
    officer = token("otit")
    id = (await post(registry, SO, permit_application(), officer, 201))["id"]

    sso = ApplyForSupervisionSupportPermit.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]
    for huge in HUGE:
        for field in ("workers", "full_time_staff"):
            answer = await registry.post(SSO, json={**sso, field: huge}, headers=officer)
            refused(answer, f"body.{field}")
        answer = await registry.post(
            f"{SO}/{id}/grant",
            json={"permit_type": "general", "meets_excellence_standard": True, "granted_on": huge},
            headers=officer,
        )
        refused(answer, "body.granted_on")
    for day in ("9999-12-31", "0001-01-01"):
        answer = await registry.post(
            f"{SO}/{id}/grant",
            json={"permit_type": "general", "meets_excellence_standard": True, "granted_on": day},
            headers=officer,
        )
        refused(answer, "body.granted_on")
    await post(registry, f"{SO}/{id}/grant", grant(), officer)
    order = {"issued_on": "2026-06-10", "deadline": "9999-12-31", "reason": "wages unpaid"}
    refused(await registry.post(f"{SO}/{id}/improvement-orders", json=order, headers=officer), "body.deadline")

    for content in (b'{"name": ', b"{'name': 'x'}", b'{"name": "x",}', b"nul", b'{"name": "x"} }'):
        answer = await registry.post(SO, content=content, headers={**officer, "content-type": "application/json"})
        assert answer.status_code == 422, (content, answer.text)
        refused(answer, "body")
        assert answer.json()["type"] == "https://titp.example/problems/invalid-request"
    # Check: nothing of it was recorded (applied, granted).
    assert (await registry.get(f"{SO}/{id}", headers=officer)).json()["version"] == 2
    assert (await registry.get(SSO, headers=officer)).json()["items"] == []


# --- slow clients, against a real uvicorn server -----------------------------------------------------------


@contextlib.asynccontextmanager
async def served(app):
    """The app under uvicorn as `python -m shared.web.serve` runs it, on a free loopback port."""
    server = uvicorn.Server(serve.config(app, host="127.0.0.1", port=free_port()))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, timeout=60, message="the server did not start")
        yield server.config.port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def _read_until_closed(reader: asyncio.StreamReader, limit_s: float) -> bytes:
    received = b""
    async with asyncio.timeout(limit_s):
        while chunk := await reader.read(65536):
            received += chunk
    return received


async def _trickle(writer: asyncio.StreamWriter, data: bytes, every_s: float) -> None:
    """Sends `data` a byte at a time until the server closes the connection."""
    with contextlib.suppress(ConnectionError):
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every_s)


@pytest.fixture
async def slow_client_server(another_database, service_settings):
    app = create_registry(
        service_settings("registry", await another_database(), http_header_timeout_s=2, http_body_timeout_s=2)
    )
    async with served(app) as port:
        yield port


async def test_a_slowloris_is_cut_after_the_header_timeout_and_a_normal_request_still_works(slow_client_server):
    port = slow_client_server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Padding: " + b"a" * 200 + b"\r\n\r\n"
    started = time.monotonic()
    trickling = asyncio.create_task(_trickle(writer, request, 0.2))
    answer = await _read_until_closed(reader, limit_s=10)
    cut_after = time.monotonic() - started
    trickling.cancel()
    writer.close()
    # Check: cut at the 2 s bound (not at 120 s, not when the trickle would have ended after ~45 s), with a 408.
    assert 1.5 < cut_after < 5, cut_after
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"application/problem+json" in answer and b"request headers" in answer

    # A connection that sends nothing at all is closed too.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert (await _read_until_closed(reader, limit_s=10)).startswith(b"HTTP/1.1 408 ")
    writer.close()

    # Check: a normal request, and a kept-alive connection idle between requests, are served.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get("/healthz")).status_code == 200
        await asyncio.sleep(3)
        assert (await client.get("/healthz")).status_code == 200


async def test_a_slow_or_stalled_body_is_cut_after_the_body_timeout_with_408(slow_client_server, token):
    port = slow_client_server
    body = b'{"name": "' + b"a" * 100 + b'"}'
    head = (
        f"POST {SO} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Authorization: {token('otit')['authorization']}\r\n\r\n"
    ).encode()
    for trickle_every_s in (0.2, 1000):  # a trickle, and a body that stalls after its first byte
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head)
        started = time.monotonic()
        trickling = asyncio.create_task(_trickle(writer, body, trickle_every_s))
        answer = await _read_until_closed(reader, limit_s=10)
        cut_after = time.monotonic() - started
        trickling.cancel()
        writer.close()
        assert 1.5 < cut_after < 5, cut_after
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"request-timeout" in answer and b"request body" in answer

    # Check: the same request sent at once is served (refused for its content, not its pace).
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    async with asyncio.timeout(10):
        assert (await reader.read(65536)).startswith(b"HTTP/1.1 422 ")
    writer.close()


# --- /readyz: a long transaction, a missing topic -----------------------------------------------------------


async def test_readyz_names_a_long_open_transaction_and_the_metric_shows_its_age(start_service, admin_dsn):
    registry = await start_service("registry", long_transaction_s=1)
    before = await registry.get("/readyz")
    assert before.status_code == 200 and set(before.json()) == {"status", "detail", "long_transactions"}

    blocker = await asyncpg.connect(admin_dsn)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.fetchval("SELECT pg_current_xact_id()")  # a write transaction: it holds an xid
        pid = blocker.get_server_pid()
        await asyncio.sleep(1.5)

        ready = await registry.get("/readyz")
        # Check: still 200 (another database's transaction must not take the service out of the load balancer).
        assert ready.status_code == 200, ready.text
        answer = ready.json()
        assert answer["status"] == "degraded"
        mine = next(t for t in answer["long_transactions"] if t["pid"] == pid)
        assert mine["database"] == admin_dsn.rsplit("/", 1)[1] and mine["age_s"] >= 1.5
        assert any(f"pid {pid}," in line and "audit feed" in line for line in answer["detail"])
        metrics = (await registry.get("/metrics")).text
        age = next(
            float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("titp_oldest_transaction_age")
        )
        assert age >= 1.5
        await transaction.rollback()
    finally:
        await blocker.close()
    # Check: once it ends, it is no longer named.

    async def released() -> bool:
        return pid not in [t["pid"] for t in (await registry.get("/readyz")).json()["long_transactions"]]

    await eventually(released, message="/readyz still names the ended transaction")


async def test_readyz_is_503_naming_the_topic_when_the_services_topic_is_deleted(
    start_service, kafka_bootstrap, unique
):
    prefix = f"test-{unique}."
    registry = await start_service("registry", topic_prefix=prefix)
    registry._transport.app.state.topic_check.ttl_s = 0.5
    assert (await registry.get("/readyz")).status_code == 200
    topic = prefix + service_topic("registry")

    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()

    async def not_ready() -> bool:
        return (await registry.get("/readyz")).status_code == 503

    await eventually(not_ready, timeout=30, message="/readyz stayed 200 with the topic deleted")
    answer = await registry.get("/readyz")
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/service-unavailable")
    assert topic in answer.json()["detail"]


async def test_readyz_stays_200_degraded_while_kafka_does_not_answer(start_service):
    registry = await start_service("registry")
    check = registry._transport.app.state.topic_check
    check.bootstrap, check.ttl_s = f"127.0.0.1:{free_port()}", 0.1  # nothing listens there

    async def degraded() -> dict | None:
        answer = await registry.get("/readyz")
        assert answer.status_code == 200, answer.text  # a broker outage must not empty the load balancer
        return answer.json() if answer.json()["status"] == "degraded" else None

    answer = await eventually(degraded, timeout=20, message="/readyz did not report Kafka unreachable")
    assert "Kafka does not answer" in answer["detail"][0]
