"""The baselines of figure 1, run from the peer's own environment (.data/bench-peer-venv, `make bench-tools`):

- `peer`: what a Python team would build instead of the registry's permit application: a FastAPI app whose
  `POST /v1/supervising-organizations` validates a body like the registry's (pydantic) and saves a new aggregate
  with the `eventsourcing` library's `Application` on PostgreSQL (its own database, `PEER_DATABASE_URL`), 201 with
  the new id. A plain `def` endpoint, as the library is synchronous: FastAPI runs it in its thread pool.
- `bare`: the floor: `GET /healthz` and a `POST /v1/supervising-organizations` that validates the same body and
  answers 201 without storing anything.

No authentication, tracing, metrics or request guard: the load generator sends the registry's Authorization header
to every target alike, and these ignore it. Served like the services (shared/web/serve.py): uvicorn with httptools
and uvloop, no access log, one process.

    python -m bench.peer.app peer --port 8100      # PEER_DATABASE_URL=postgresql://user:password@host:port/db
    python -m bench.peer.app bare --port 8101
"""

import argparse
import os
from datetime import date
from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

# The body: the registry's ApplyForPermit (services/registry/api/schemas.py), restated.


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SupervisingOffice(Strict):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    supervision_manager: str = Field(min_length=1, max_length=200)


class Officer(Strict):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    position: str | None = Field(None, max_length=200)


class ApplyForPermit(Strict):
    name: str = Field(min_length=1, max_length=200)
    corporate_number: str = Field(pattern=r"^\d{13}$")
    address: str = Field(min_length=1, max_length=500)
    prefecture: str = Field(min_length=1, max_length=20)
    representative: str = Field(min_length=1, max_length=200)
    supervising_offices: list[SupervisingOffice] = Field(min_length=1, max_length=100)
    job_categories: list[str] = Field(min_length=1, max_length=200)
    requested_permit_type: Literal["general", "specified"]
    external_auditor: str = Field(min_length=1, max_length=200)
    officers: list[Officer] = Field(default=[], max_length=100)
    applied_on: date


class Created(BaseModel):
    id: UUID


def persistence_env(dsn: str) -> dict[str, str]:
    """The eventsourcing library's settings for a PostgreSQL DSN; a pool as large as the services' (20)."""
    url = urlsplit(dsn)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/"),
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or ""),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": "10",
        "POSTGRES_MAX_OVERFLOW": "10",
        "CREATE_TABLE": "y",
    }


class SupervisingOrganization(Aggregate):
    """One aggregate per supervising organization, created by its permit application."""

    @event("PermitApplied")
    def __init__(self, application: dict[str, Any], applied_on: str) -> None:
        self.application = application
        self.applied_on = applied_on
        self.lifecycle = "applied"


class Registry(Application):
    def apply_for_permit(self, body: ApplyForPermit) -> UUID:
        application = body.model_dump(mode="json", exclude={"applied_on"})
        organization = SupervisingOrganization(application=application, applied_on=body.applied_on.isoformat())
        self.save(organization)
        return organization.id


def registry(dsn: str) -> Registry:
    return Registry(env=persistence_env(dsn))


def create_peer(dsn: str | None = None) -> FastAPI:
    app = FastAPI(title="peer: FastAPI + eventsourcing")
    service = registry(dsn or os.environ["PEER_DATABASE_URL"])

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/supervising-organizations", status_code=201, response_model=Created)
    def apply_for_permit(body: ApplyForPermit) -> Created:
        return Created(id=service.apply_for_permit(body))

    return app


def create_bare() -> FastAPI:
    app = FastAPI(title="bare FastAPI")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/supervising-organizations", status_code=201)
    async def apply_for_permit(body: ApplyForPermit) -> dict[str, str]:
        return {"status": "accepted"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer.app", description=__doc__)
    parser.add_argument("app", choices=["peer", "bare"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvicorn

    app = create_peer() if args.app == "peer" else create_bare()
    uvicorn.run(
        app, host=args.host, port=args.port, http="httptools", loop="uvloop", access_log=False, log_level="warning"
    )


if __name__ == "__main__":
    main()
