"""The public disclosure of administrative actions on supervising organizations' permits (DOMAIN §2) and on
supervision support organizations' ESD permits (DOMAIN §9), each row naming its scheme.

PUBLIC: these routes take no token. Revocations, suspensions, downgrades and improvement orders
are published by law, so the routes deliberately declare no `CurrentPrincipal` or role
dependency (and `security: []` in the OpenAPI document); they read only `disclosed_actions`,
which holds nothing personal (services/registry/projections/disclosure.py).
"""

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from contracts.registry import Scheme
from services.registry.api.schemas import Action, DisclosedAction, DisclosurePage
from services.registry.projections.disclosure import FIELDS, list_disclosed_actions
from shared.web.app import PoolDep
from shared.web.http import cursor_day_and_id, encode_cursor
from shared.web.problems import InvalidParameter

CSV_MEDIA_TYPE = "text/csv"
PUBLIC: dict[str, Any] = {"security": []}  # OpenAPI: no credentials

router = APIRouter(prefix="/v1/public", tags=["public disclosure"])


# A cell a spreadsheet would take for a formula (CSV injection): prefixed with a single quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    writer.writerows([_cell(row[f]) for f in FIELDS] for row in rows)
    return Response(
        out.getvalue(),
        media_type=CSV_MEDIA_TYPE,
        headers={"content-disposition": 'attachment; filename="administrative-actions.csv"'},
    )


@router.get(
    "/administrative-actions",
    response_model=DisclosurePage,
    openapi_extra=PUBLIC,
    responses={
        200: {
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "JSON, or with `format=csv` or `Accept: text/csv` every match as CSV",
        }
    },
)
async def list_administrative_actions(
    request: Request,
    pool: PoolDep,
    from_date: Annotated[date | None, Query(alias="from", description="actions on or after this day")] = None,
    to_date: Annotated[date | None, Query(alias="to", description="actions on or before this day")] = None,
    prefecture: Annotated[str | None, Query(max_length=20)] = None,
    action: Action | None = None,
    scheme: Annotated[Scheme | None, Query(description="titp or esd; both when not given")] = None,
    representation: Annotated[
        Literal["json", "csv"] | None,
        Query(alias="format", description="csv, or send Accept: text/csv; csv lists every match on one page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Response | DisclosurePage:
    """Public, no token: revocations, suspensions, downgrades and improvement orders of TITP and ESD permits,
    newest first."""
    if from_date and to_date and to_date < from_date:
        raise InvalidParameter("query.to", "must not be before from")
    as_csv = representation == "csv" or (representation is None and CSV_MEDIA_TYPE in request.headers.get("accept", ""))
    items = await list_disclosed_actions(
        pool,
        from_date=from_date,
        to_date=to_date,
        prefecture=prefecture,
        action=action,
        scheme=scheme,
        after=None if as_csv else cursor_day_and_id(cursor),
        limit=None if as_csv else limit + 1,
    )
    if as_csv:
        return _csv(items)
    page = items[:limit]
    return DisclosurePage(
        items=[DisclosedAction.model_validate(i) for i in page],
        next_cursor=encode_cursor([page[-1]["action_date"].isoformat(), str(page[-1]["id"])])
        if len(items) > limit
        else None,
    )
