"""The four services as the console reaches them: their REST APIs, with the officer's own token.

The console never reads a service's database or topics (ARCHITECTURE §1). What a form asks for and which
roles may send it come from the service's own OpenAPI document (`x-roles` on each operation), read once and
kept, so a field or a decision added to a service shows in the console without a change here.
"""

from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.settings import SERVICES

PROBLEM_JSON = "application/problem+json"


class ServiceUnreachable(Exception):
    """A service did not answer: the page says which, and nothing was changed by the console."""

    def __init__(self, service: str, error: Exception) -> None:
        super().__init__(f"the {service} service did not answer ({type(error).__name__})")
        self.service = service


@dataclass
class Answer:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def problem(self) -> dict[str, Any]:
        """The service's problem+json (RFC 9457) for an error; a plain one if it sent something else."""
        if isinstance(self.body, dict) and "status" in self.body:
            return self.body
        return {"status": self.status, "title": "The service refused the request", "detail": str(self.body)[:500]}


@dataclass
class Services:
    """One HTTP client per service, shared by every request of the console's process."""

    urls: dict[str, str]
    timeout_s: float
    transports: dict[str, httpx.AsyncBaseTransport] | None = None  # in-process services, for tests
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for service in SERVICES:
            self.clients[service] = httpx.AsyncClient(
                base_url=self.urls[service], timeout=self.timeout_s, transport=(self.transports or {}).get(service)
            )

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        try:
            response = await self.clients[service].request(method, path, params=params, json=json, headers=sent)
        except httpx.HTTPError as error:
            raise ServiceUnreachable(service, error) from error
        kind = response.headers.get("content-type", "")
        body: Any = response.json() if "json" in kind else response.text
        return Answer(response.status_code, body, response.headers)

    async def get(self, service: str, path: str, token: str | None, **params: Any) -> Answer:
        wanted = {k: v for k, v in params.items() if v not in (None, "")}
        return await self.call(service, "GET", path, token=token, params=wanted)

    async def openapi(self, service: str) -> dict[str, Any]:
        """The service's OpenAPI document, fetched once per console process."""
        if service not in self.documents:
            answer = await self.call(service, "GET", "/openapi.json", token=None)
            if not answer.ok or not isinstance(answer.body, dict):
                raise ServiceUnreachable(service, RuntimeError(f"/openapi.json answered {answer.status}"))
            self.documents[service] = answer.body
        return self.documents[service]
