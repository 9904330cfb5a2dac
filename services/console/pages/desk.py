"""The officer's desk: today's work, the lists, one record (state, history, state as of a day), and decisions.

Every read and every decision goes to the service that owns the record, with the officer's own token; a
refusal comes back as the service's problem+json and is shown in words, with the form as it was typed.
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from httpx import Headers

from services.console.apis import Answer, Services, ServiceUnreachable
from services.console.catalogue import RESOURCES, Resource, title_of
from services.console.forms import Action, Unreadable, actions_of, body_of, field_errors, list_filters, path_of
from services.console.render import fragment, page
from services.console.session import Officer, officer_of

router = APIRouter()


class SignInNeeded(Exception):
    """The page needs a signed-in officer: answered with a redirect to the sign-in page."""


def signed_in(request: Request) -> Officer:
    officer = officer_of(request)
    if officer is None:
        raise SignInNeeded(request.url.path)
    return officer


OfficerDep = Annotated[Officer, Depends(signed_in)]


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def resource_of(name: str) -> Resource:
    resource = RESOURCES.get(name)
    if resource is None:
        raise NoSuchPage(name)
    return resource


class NoSuchPage(Exception):
    pass


@dataclass
class Worklist:
    """One box on the dashboard: a list route of a service with its filters, for the roles that do this work."""

    key: str
    roles: tuple[str, ...]
    resource: str
    params: dict[str, Any]


def worklists(today: date) -> list[Worklist]:
    soon = (today + timedelta(days=30)).isoformat()
    day = today.isoformat()
    return [
        Worklist("waiting_decision", ("otit",), "supervising-organizations", {"status": "applied"}),
        Worklist("waiting_decision", ("otit",), "supervision-support-organizations", {"status": "applied"}),
        Worklist("waiting_decision", ("otit",), "training-plans", {"status": "applied"}),
        Worklist("inspections_overdue", ("otit",), "inspections", {"overdue_as_of": day}),
        Worklist("inspections_due", ("otit",), "inspections", {"status": "scheduled", "due_before": soon}),
        Worklist("reports_overdue", ("otit",), "inspections", {"report_overdue_as_of": day}),
        Worklist("filings_overdue", ("otit",), "filings", {"overdue_as_of": day}),
        Worklist("needs_new_supervisor", ("otit",), "training-plans", {"needs_new_supervising_organization": "true"}),
        Worklist("coe_waiting", ("immigration",), "coe-applications", {"status": "pending"}),
    ]


DASHBOARD_ROWS = 8


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, officer: OfficerDep, on: date | None = None) -> Response:
    today = on or date.today()
    services = services_of(request)
    boxes = []
    for worklist in worklists(today):
        if not officer.has(*worklist.roles, "admin"):
            continue
        resource = RESOURCES[worklist.resource]
        try:
            answer = await services.get(
                resource.service, f"/v1/{resource.path}", officer.token, **worklist.params, limit=DASHBOARD_ROWS
            )
        except ServiceUnreachable as unreachable:  # the other boxes still show: one service down is one box down
            answer = Answer(503, {"status": 503, "title": "Service Unavailable", "detail": str(unreachable)}, Headers())
        boxes.append({"worklist": worklist, "resource": resource, "answer": answer})
    return page(request, "dashboard.html", boxes=boxes, today=today, title_of=title_of)


@router.get("/records/{name}", response_class=HTMLResponse)
async def record_list(request: Request, name: str, officer: OfficerDep) -> Response:
    resource = resource_of(name)
    services = services_of(request)
    document = await services.openapi(resource.service)
    filters = list_filters(document, resource.path)
    chosen = {f.name: request.query_params.get(f.name, "") for f in filters}
    cursor = request.query_params.get("cursor")
    answer = await services.get(
        resource.service, f"/v1/{resource.path}", officer.token, **chosen, cursor=cursor, limit=25
    )
    creations = [a for a in actions_of(document, resource.service, resource.path) if a.name == "new"]
    context = {
        "resource": resource,
        "filters": filters,
        "chosen": chosen,
        "answer": answer,
        "title_of": title_of,
        "creations": [a for a in creations if a.may(set(officer.roles))],
    }
    return page(request, "table.html" if fragment(request) else "list.html", status=_shown(answer), **context)


def _shown(answer: Answer) -> int:
    return answer.status if answer.status in {401, 403, 404} else 200


@router.get("/records/{name}/{id}", response_class=HTMLResponse)
async def record_detail(
    request: Request, name: str, id: uuid.UUID, officer: OfficerDep, as_of: Annotated[date | None, Query()] = None
) -> Response:
    resource = resource_of(name)
    services = services_of(request)
    path = f"/v1/{resource.path}/{id}"
    current = await services.get(resource.service, path, officer.token)
    then = None
    if as_of is not None and current.ok:
        # The end of the chosen day, in Japan: what was recorded by then.
        then = await services.get(resource.service, path, officer.token, as_of=f"{as_of.isoformat()}T23:59:59+09:00")
    history = await services.get(resource.service, f"/v1/audit/streams/{id}", officer.token)
    document = await services.openapi(resource.service)
    decisions = [
        a
        for a in actions_of(document, resource.service, resource.path)
        if a.name != "new" and a.may(set(officer.roles))
    ]
    return page(
        request,
        "record.html",
        status=_shown(current),
        resource=resource,
        id=id,
        current=current,
        then=then,
        as_of=as_of,
        history=history,
        decisions=decisions,
        title_of=title_of,
    )


async def _action(request: Request, resource: Resource, name: str) -> Action:
    document = await services_of(request).openapi(resource.service)
    for action in actions_of(document, resource.service, resource.path):
        if action.name == name:
            return action
    raise NoSuchPage(name)


def _form_page(request: Request, resource: Resource, action: Action, id: uuid.UUID | None, **context: Any) -> Response:
    context.setdefault("typed", {})
    context.setdefault("errors", {})
    context.setdefault("idempotency_key", str(uuid.uuid4()))
    template = "form_body.html" if fragment(request) else "form.html"
    return page(request, template, resource=resource, action=action, id=id, **context)


@router.get("/records/{name}/{id}/{action:path}", response_class=HTMLResponse)
async def decision_form(request: Request, name: str, id: str, action: str, officer: OfficerDep) -> Response:
    resource = resource_of(name)
    record_id = None if id == "new" else uuid.UUID(id)
    chosen = await _action(request, resource, "new" if record_id is None else action)
    # A link may fill a field in (a sub-record's id: ?order_id=...).
    return _form_page(request, resource, chosen, record_id, typed=dict(request.query_params))


@router.post("/records/{name}/{id}/{action:path}", response_class=HTMLResponse)
async def decide(request: Request, name: str, id: str, action: str, officer: OfficerDep) -> Response:
    resource = resource_of(name)
    record_id = None if id == "new" else uuid.UUID(id)
    chosen = await _action(request, resource, "new" if record_id is None else action)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    key = form.pop("idempotency_key", "") or str(uuid.uuid4())
    try:
        path = path_of(chosen, str(record_id) if record_id else None, form)
        body = body_of(chosen.fields, form)
    except Unreadable as unreadable:
        return _form_page(request, resource, chosen, record_id, typed=form, errors=unreadable.errors, status=422)
    answer = await services_of(request).call(
        resource.service, "POST", path, token=officer.token, json=body, headers={"idempotency-key": key}
    )
    if answer.ok:
        created = answer.body.get("id") if isinstance(answer.body, dict) else None
        target = f"/records/{resource.path}/{record_id or created}?done={chosen.name}"
        if fragment(request):
            return Response(status_code=204, headers={"hx-redirect": target})
        return RedirectResponse(target, status_code=303)
    problem = answer.problem
    return _form_page(
        request,
        resource,
        chosen,
        record_id,
        typed=form,
        errors=field_errors(problem),
        problem=problem,
        idempotency_key=key if answer.status >= 500 else str(uuid.uuid4()),
        status=answer.status if answer.status in {403, 404, 409, 412, 422} else 502,
    )
