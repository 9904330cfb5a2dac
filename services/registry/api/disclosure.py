"""The public disclosure of administrative actions on supervising organizations' permits (DOMAIN §2).

PUBLIC: these routes take no token. Revocations, suspensions, downgrades and improvement orders
are published by law, so the routes deliberately declare no `CurrentPrincipal` or role
dependency (and `security: []` in the OpenAPI document); they read only `disclosed_actions`,
which holds nothing personal (services/registry/projections/disclosure.py).
"""

import csv
import io
from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from shared.web.http import decode_cursor, encode_cursor
from shared.web.problems import InvalidParameter
from shared.web.app import PoolDep

Action = Literal["revocation", "suspension", "downgrade", "improvement_order"]
FIELDS = ("action_date", "action", "name", "corporate_number", "prefecture", "legal_basis", "ground", "until_date",
          "scope", "deadline", "supervising_organization_id", "id")
CSV_MEDIA_TYPE = "text/csv"
PUBLIC = {"security": []}  # OpenAPI: no credentials


class DisclosedAction(BaseModel):
    id: UUID
    supervising_organization_id: UUID
    name: str
    corporate_number: str
    prefecture: str
    action: Action
    action_date: date
    legal_basis: str | None
    ground: str
    until_date: date | None
    scope: Literal["all", "part"] | None
    deadline: date | None


class DisclosurePage(BaseModel):
    items: list[DisclosedAction]
    next_cursor: str | None


router = APIRouter(prefix="/v1/public", tags=["public disclosure"])


def _position(cursor: str | None) -> tuple[date | None, UUID | None]:
    after = decode_cursor(cursor)
    if not after:
        return None, None
    try:
        return date.fromisoformat(after[0]), UUID(after[1])
    except (ValueError, TypeError, IndexError):
        raise InvalidParameter("query.cursor", "not a cursor this service issued") from None


def _csv(rows: list[dict]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    writer.writerows([row[f] if row[f] is not None else "" for f in FIELDS] for row in rows)
    return Response(out.getvalue(), media_type=CSV_MEDIA_TYPE,
                    headers={"content-disposition": 'attachment; filename="administrative-actions.csv"'})


@router.get("/administrative-actions", response_model=DisclosurePage, openapi_extra=PUBLIC,
            responses={200: {"content": {CSV_MEDIA_TYPE: {}}}})
async def list_administrative_actions(
    request: Request,
    pool: PoolDep,
    from_date: Annotated[date | None, Query(alias="from", description="actions on or after this day")] = None,
    to_date: Annotated[date | None, Query(alias="to", description="actions on or before this day")] = None,
    prefecture: Annotated[str | None, Query(max_length=20)] = None,
    action: Action | None = None,
    representation: Annotated[Literal["json", "csv"] | None,
                              Query(alias="format", description="csv, or send Accept: text/csv; csv lists every"
                                                                " match on one page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Response | DisclosurePage:
    """Public, no token: revocations, suspensions, downgrades and improvement orders, newest first."""
    if from_date and to_date and to_date < from_date:
        raise InvalidParameter("query.to", "must not be before from")
    as_csv = representation == "csv" or (representation is None
                                         and CSV_MEDIA_TYPE in request.headers.get("accept", ""))
    after_date, after_id = (None, None) if as_csv else _position(cursor)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"""
            SELECT {', '.join(FIELDS)} FROM disclosed_actions
             WHERE ($1::date IS NULL OR action_date >= $1) AND ($2::date IS NULL OR action_date <= $2)
               AND ($3::text IS NULL OR prefecture = $3) AND ($4::text IS NULL OR action = $4)
               AND ($5::date IS NULL OR (action_date, id) < ($5, $6))
             ORDER BY action_date DESC, id DESC LIMIT $7
            """,
            from_date, to_date, prefecture, action, after_date, after_id, None if as_csv else limit + 1)
    items = [dict(r) for r in rows]
    if as_csv:
        return _csv(items)
    more = len(items) > limit
    items = items[:limit]
    return DisclosurePage(items=[DisclosedAction(**i) for i in items],
                          next_cursor=encode_cursor([items[-1]["action_date"].isoformat(), str(items[-1]["id"])])
                          if more else None)
