"""Hostile input changes nothing (issue 8): malformed, wrongly typed, oversized bodies and unknown
fields are 422 naming the field; a body over the size limit is 413; a client writing too fast is 429
with Retry-After. Against the real database: nothing is recorded."""

import importlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.registry.app import create_app as create_registry
from shared.settings import SERVICES, load_settings
from shared.web.auth import JWKS_FILE, ensure_dev_keys, mint_token
from tests.helpers import eventually, permit_application

SO = "/v1/supervising-organizations"


async def recorded(client, token) -> list:
    return (await client.get("/v1/audit/events", headers=token("auditor"))).json()["events"]


async def test_bad_bodies_are_422_naming_the_field_and_record_nothing(start_service, token):
    registry = await start_service("registry", max_request_bytes=16_384)
    officer = token("otit")
    bad = [
        ("malformed JSON", {"content": b'{"name": "Sakura", '}, "body"),
        ("a number for a text", {"json": permit_application(name=12345)}, "body.name"),
        ("text for a date", {"json": permit_application(applied_on="yesterday")}, "body.applied_on"),
        ("an unknown field", {"json": permit_application(is_admin=True)}, "body.is_admin"),
        ("a value too long", {"json": permit_application(name="x" * 10_000)}, "body.name"),
        ("a NUL character", {"json": permit_application(name="Sakura\x00")}, "body"),
        ("a list for an object", {"json": [permit_application()]}, "body"),
    ]
    for why, request, field in bad:
        response = await registry.post(SO, headers={**officer, "content-type": "application/json"}, **request)
        assert response.status_code == 422, (why, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], (why, response.json())
    nul_query = await registry.get(SO, headers=officer, params={"prefecture": "Tokyo\x00"})
    assert (nul_query.status_code, nul_query.json()["errors"][0]["field"]) == (422, "query.prefecture")

    too_large = await registry.post(SO, headers=officer, json=permit_application(external_auditor="x" * 20_000))
    assert too_large.status_code == 413 and too_large.json()["limit_bytes"] == 16_384

    async def chunks():
        for _ in range(20):
            yield b"x" * 1024

    # Check: a body sent in chunks, without a Content-Length, is held to the same limit.
    streamed = await registry.post(SO, headers={**officer, "content-type": "application/json"}, content=chunks())
    assert streamed.status_code == 413

    # Check: none of it was recorded.
    assert await recorded(registry, token) == []
    assert (await registry.get(SO, headers=officer)).json()["items"] == []


async def test_a_client_writing_too_fast_is_told_when_to_come_back(start_service, token):
    registry = await start_service("registry", write_burst=3, write_rate_per_s=0.2)
    hasty, other = token("otit", subject="hasty-clerk"), token("otit", subject="calm-clerk")
    answers = [await registry.post(SO, json=permit_application(), headers=hasty) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 5 and refused.json()["type"].endswith("/too-many-requests")
    # Check: only that client is slowed down, and only its writes; the refused write recorded nothing.
    assert (await registry.post(SO, json=permit_application(), headers=other)).status_code == 201
    assert (await registry.get(SO, headers=hasty)).status_code == 200
    assert await eventually(lambda: _count(registry, token, 4), timeout=5)


async def _count(client, token, expected: int) -> bool:
    return len(await recorded(client, token)) == expected


def test_every_request_body_of_every_service_refuses_unknown_fields(service_settings):
    for name in SERVICES:
        app = importlib.import_module(f"services.{name}.app").create_app(service_settings(name, "postgresql://x@y/z"))
        schemas = app.openapi()["components"]["schemas"]
        bodies = [
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            for path in app.openapi()["paths"].values()
            for op in path.values()
            if "requestBody" in op
        ]
        seen, pending = set(), list(bodies)
        while pending:
            schema_name = pending.pop()
            if schema_name in seen:
                continue
            seen.add(schema_name)
            schema = schemas[schema_name]
            if schema.get("type") == "object":
                # Check: an unknown field is refused, in the body and in every object inside it.
                assert schema.get("additionalProperties") is False, f"{name}: {schema_name} accepts unknown fields"
            pending += [ref.rsplit("/", 1)[1] for ref in _refs(schema)]
        assert bodies, name


def _refs(schema) -> list[str]:
    if isinstance(schema, dict):
        return [schema["$ref"]] if "$ref" in schema else [r for v in schema.values() for r in _refs(v)]
    if isinstance(schema, list):
        return [r for v in schema for r in _refs(v)]
    return []


async def test_a_token_from_another_oidc_issuer_is_verified_with_its_jwks_over_http(
    fresh_database, run_service, kafka_bootstrap, tmp_path
):
    """Any OIDC issuer (e.g. Keycloak): RS256 tokens checked against the JWKS it serves over HTTP."""
    keys = ensure_dev_keys(tmp_path / "keycloak", key_type="rsa")
    jwks = (keys / JWKS_FILE).read_bytes()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server name
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        issuer = "http://127.0.0.1/realms/titp"
        registry = await run_service(
            create_registry(
                load_settings(
                    "registry",
                    database_url=fresh_database,
                    kafka_bootstrap_servers=kafka_bootstrap,
                    log_json=False,
                    auth_jwks_url=f"http://127.0.0.1:{server.server_port}/certs",
                    auth_issuer=issuer,
                    auth_audience="titp-back-office",
                    auth_algorithms="RS256",
                )
            )
        )
        good = mint_token(["otit"], subject="keycloak-user", keys_dir=keys, issuer=issuer, audience="titp-back-office")
        answer = await registry.post(SO, json=permit_application(), headers={"authorization": f"Bearer {good}"})
        assert answer.status_code == 201, answer.text

        def auditor(role: str) -> dict[str, str]:
            return {
                "authorization": "Bearer "
                + mint_token([role], keys_dir=keys, issuer=issuer, audience="titp-back-office")
            }

        # The audit feed follows the log: it shows an event once no older transaction anywhere in the
        # cluster is still running (shared/store.py read_all), so it may lag the 201 by a moment.
        [event] = await eventually(lambda: recorded(registry, auditor), message="the event never reached the log")
        # Check: the event names the issuer's subject as its actor.
        assert event["actor"] == "keycloak-user"
        dev = mint_token(["otit"], keys_dir=ensure_dev_keys(tmp_path / "dev"))
        assert (await registry.get(SO, headers={"authorization": f"Bearer {dev}"})).status_code == 401
    finally:
        server.shutdown()
