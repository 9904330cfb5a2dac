import logging

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field, field_validator

from shared.errors import ConflictError, DomainRuleViolation, NotFound, PreconditionFailed
from shared.web.problems import Forbidden, ServiceUnavailable, Unauthorized, field_path, install_problem_handlers


class Trainee(BaseModel):
    name: str = Field(min_length=1)


class RegisterImplementingOrganization(BaseModel):
    corporate_number: str = Field(pattern=r"^\d{13}$")
    name: str
    trainees: list[Trainee] = []

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name must not be blank")
        return value


def back_office() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    problems = {
        "rule": DomainRuleViolation("permit-not-revoked", "the permit of ORG-1 was revoked"),
        "not-found": NotFound("supervising organization", "ORG-404"),
        "stale": PreconditionFailed(expected=3, actual=5),
        "conflict": ConflictError("the Idempotency-Key was used with another request body"),
        "unauthorized": Unauthorized(),
        "forbidden": Forbidden(),
        "unavailable": ServiceUnavailable("the event store is not reachable", retry_after_s=7),
    }

    @app.get("/problems/{name}")
    async def raise_problem(name: str):
        raise problems[name]

    @app.post("/implementing-organizations")
    async def register(command: RegisterImplementingOrganization) -> dict:
        return {"ok": True}

    @app.get("/crash")
    async def crash():
        raise RuntimeError("password=hunter2 in a stack frame")

    return app


@pytest.fixture
def client():
    transport = httpx.ASGITransport(back_office(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://titp.test")


def is_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["type"]
    return body


async def test_a_refused_command_names_the_rule(client):
    body = is_problem(await client.get("/problems/rule"), 409)

    assert body["type"] == "https://titp.example/problems/rule/permit-not-revoked"
    assert body["rule"] == "permit-not-revoked"
    assert body["detail"] == "the permit of ORG-1 was revoked"


async def test_not_found(client):
    body = is_problem(await client.get("/problems/not-found"), 404)

    assert body["detail"] == "supervising organization ORG-404 not found"
    assert body["type"] == "https://titp.example/problems/not-found"


async def test_a_stale_if_match_is_412_with_both_versions(client):
    body = is_problem(await client.get("/problems/stale"), 412)

    assert (body["expected"], body["actual"]) == (3, 5)


async def test_conflict(client):
    body = is_problem(await client.get("/problems/conflict"), 409)

    assert "Idempotency-Key" in body["detail"]


async def test_unauthorized_asks_for_a_bearer_token(client):
    response = await client.get("/problems/unauthorized")

    is_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_forbidden(client):
    is_problem(await client.get("/problems/forbidden"), 403)


async def test_service_unavailable_says_when_to_retry(client):
    response = await client.get("/problems/unavailable")

    is_problem(response, 503)
    assert response.headers["retry-after"] == "7"


async def test_invalid_input_names_each_field_and_reason(client):
    response = await client.post(
        "/implementing-organizations",
        json={"corporate_number": "12-34", "name": "  ", "trainees": [{"name": "Nguyen"}, {"name": ""}]},
    )

    body = is_problem(response, 422)
    reasons = {error["field"]: error["reason"] for error in body["errors"]}
    assert set(reasons) == {"body.corporate_number", "body.name", "body.trainees[1].name"}
    assert "pattern" in reasons["body.corporate_number"]
    assert reasons["body.name"] == "the name must not be blank"


async def test_a_missing_field_is_named(client):
    body = is_problem(await client.post("/implementing-organizations", json={"name": "Sakura Foods"}), 422)

    assert body["errors"] == [{"field": "body.corporate_number", "reason": "Field required"}]


async def test_a_body_that_is_not_json_is_422_on_the_body(client):
    response = await client.post(
        "/implementing-organizations", content=b"{not json", headers={"content-type": "application/json"}
    )

    body = is_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["body"]


async def test_an_unknown_route_is_404(client):
    body = is_problem(await client.get("/no-such-thing"), 404)

    assert body["type"] == "about:blank"


async def test_a_wrong_method_is_405_with_allow(client):
    response = await client.delete("/crash")

    is_problem(response, 405)
    assert response.headers["allow"] == "GET"


async def test_an_unexpected_error_is_500_logged_and_leaks_nothing(client, caplog):
    with caplog.at_level(logging.ERROR, logger="shared.web.problems"):
        response = await client.get("/crash")

    body = is_problem(response, 500)
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["type"] == "https://titp.example/problems/internal-error"
    [record] = [r for r in caplog.records if r.name == "shared.web.problems"]
    assert record.exc_info[0] is RuntimeError
    assert record.path == "/crash"


@pytest.mark.parametrize(
    ("location", "path"),
    [
        (("body", "corporate_number"), "body.corporate_number"),
        (("body", "trainees", 0, "name"), "body.trainees[0].name"),
        (("body", "permit", "function-after[check(), str]"), "body.permit"),
        (("query", "limit"), "query.limit"),
        (("body",), "body"),
    ],
)
def test_field_paths_drop_pydantic_noise(location, path):
    assert field_path(location) == path
