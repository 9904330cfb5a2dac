"""Charts for signed-in officers, from the statistics routes with the officer's own token: plans certified per month
by nationality and by field (accreditation), inspections done and overdue per quarter (inspection).

A route the officer's role may not read (403) or a month the service refuses (422) is shown as the service's
problem in place of its chart; the months are never judged here.
"""

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.apis import Answer, Services
from services.console.charts import Chart, inspections_chart, plans_certified_chart
from services.console.i18n import word
from services.console.pages.desk import OfficerDep
from services.console.render import language, page
from shared.dates import add_months, month_start

router = APIRouter()

MONTHS_SHOWN = 12


@dataclass
class Section:
    id: str
    heading: str
    answer: Answer
    chart: Chart | None


def default_months(today: date) -> tuple[str, str]:
    """The last 12 months, this one included."""
    this_month = month_start(today)
    return add_months(this_month, 1 - MONTHS_SHOWN).strftime("%Y-%m"), this_month.strftime("%Y-%m")


@router.get("/charts", response_class=HTMLResponse)
async def charts_page(request: Request, officer: OfficerDep) -> Response:
    lang = language(request)
    first, last = default_months(date.today())
    chosen = {
        "from": request.query_params.get("from", "").strip() or first,
        "to": request.query_params.get("to", "").strip() or last,
    }
    services: Services = request.app.state.services
    sections = []
    for by, key in (("nationality", "by_nationality"), ("job_group", "by_field")):
        answer = await services.get("accreditation", "/v1/statistics/plans-certified", officer.token, by=by, **chosen)
        heading = f"{word('plans_certified', lang)} ({word(key, lang)})"
        chart = plans_certified_chart(f"plans-by-{by}", heading, answer.body, lang) if answer.ok else None
        sections.append(Section(f"plans-by-{by}", heading, answer, chart))
    answer = await services.get("inspection", "/v1/statistics/inspections", officer.token, **chosen)
    heading = word("inspections_per_quarter", lang)
    chart = inspections_chart("inspections", heading, answer.body, lang) if answer.ok else None
    sections.append(Section("inspections", heading, answer, chart))
    refused = {s.answer.status for s in sections if not s.answer.ok}
    status = 422 if 422 in refused else 200
    return page(request, "charts.html", status=status, sections=sections, chosen=chosen)
