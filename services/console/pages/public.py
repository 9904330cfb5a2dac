"""The public pages (no sign-in): the disclosure of administrative actions, as the registry publishes them.

The registry's public route holds nothing personal (services/registry/api/disclosure.py) and answers newest first
(by the action's date, then its id); this page shows its pages as they come, with its cursor, and streams its CSV
through as it is. The statistics charts, for signed-in officers, are in pages/charts.py (included here).
"""

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from services.console.apis import Answer, Services, ServiceUnreachable
from services.console.forms import list_filters
from services.console.pages import charts
from services.console.render import fragment, page
from shared import reference

router = APIRouter()
router.include_router(charts.router)

PUBLIC_ACTIONS = "/v1/public/administrative-actions"
FILTERS = ("from", "to", "prefecture", "action", "scheme")
ROWS = 25


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _chosen(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in FILTERS}


def prefecture_name(value: Any, lang: str) -> str:
    """The registry shows a prefecture's JIS code ("13"): shown by its name."""
    found = reference.prefecture(str(value)) if value else None
    if found is None:
        return "" if value is None else str(value)
    return found.name_ja if lang == "ja" else found.name


async def _choices(services: Services) -> dict[str, list[str]]:
    """The kinds of action and the schemes, as the registry's OpenAPI document lists them for its public route."""
    document = await services.openapi("registry")
    return {f.name: f.choices for f in list_filters(document, PUBLIC_ACTIONS.removeprefix("/v1/")) if f.choices}


async def _page(request: Request, chosen: dict[str, str], answer: Answer, status: int) -> Response:
    wanted = {k: v for k, v in chosen.items() if v}
    context: dict[str, Any] = {
        "chosen": chosen,
        "answer": answer,
        "query": urlencode(wanted),
        "prefecture_name": prefecture_name,
    }
    if fragment(request):
        # htmx swaps only a 2xx answer: the table with the registry's problem in it comes as 200.
        return page(request, "public_table.html", **context)
    prefectures = sorted(reference.prefectures().values(), key=lambda p: p.code)
    choices = await _choices(_services(request))
    return page(request, "public.html", status=status, prefectures=prefectures, choices=choices, **context)


@router.get("/public/administrative-actions", response_class=HTMLResponse)
async def administrative_actions(request: Request) -> Response:
    chosen = _chosen(request)
    cursor = request.query_params.get("cursor")
    answer = await _services(request).get("registry", PUBLIC_ACTIONS, None, **chosen, cursor=cursor, limit=ROWS)
    return await _page(request, chosen, answer, _status(answer))


def _status(answer: Answer) -> int:
    if answer.ok:
        return 200
    return answer.status if answer.status in {400, 422} else 502


@router.get("/public/administrative-actions.csv")
async def administrative_actions_csv(request: Request) -> Response:
    """Every match as the registry's CSV, streamed through as it comes (not a page: the whole list)."""
    chosen = _chosen(request)
    client = _services(request).clients["registry"]
    params = {**{k: v for k, v in chosen.items() if v}, "format": "csv"}
    try:
        response = await client.send(client.build_request("GET", PUBLIC_ACTIONS, params=params), stream=True)
    except httpx.HTTPError as error:
        raise ServiceUnreachable("registry", error) from error
    if response.status_code != 200:
        text = (await response.aread()).decode(errors="replace")
        await response.aclose()
        kind = response.headers.get("content-type", "")
        body = json.loads(text) if "json" in kind and text else text
        answer = Answer(response.status_code, body, response.headers)
        return await _page(request, chosen, answer, _status(answer))
    disposition = response.headers.get("content-disposition", 'attachment; filename="administrative-actions.csv"')

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        finally:  # also when the reader goes away halfway
            await response.aclose()

    return StreamingResponse(
        chunks(),
        media_type=response.headers.get("content-type", "text/csv"),
        headers={"content-disposition": disposition},
    )
