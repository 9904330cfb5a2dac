"""Early returns home over REST (issue 25 item 1), and the counts of early returns, disappearances and deaths per
organization (items 1 and 4): each command one call into `commands.py`."""

from dataclasses import asdict, dataclass, field
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Response

from contracts.accreditation import EarlyReturnDecision, EarlyReturnReason
from services.accreditation import commands
from services.accreditation.api.auth import AgencyReader, Filer, OtitOfficer, Reader
from services.accreditation.api.early_return_schemas import (
    DecideEarlyReturn,
    EarlyReturnCounts,
    EarlyReturnDocument,
    EarlyReturnStatus,
    FileEarlyReturn,
    LossesPerEmployer,
)
from services.accreditation.api.statistics import FromMonth, ToMonth
from services.accreditation.api.training_plans import RuleBookDep
from services.accreditation.projections import early_returns, training_plans
from services.accreditation.projections import statistics as plan_statistics
from shared.dates import fiscal_year_start, last_day, month_start
from shared.errors import NotFound
from shared.web.app import PoolDep, StoreDep
from shared.web.http import Accepted, Command, Page, cursor_day_and_id, page_of, today
from shared.web.statistics import FiscalYear, fiscal_year_span, fiscal_years, month_of, periods

router = APIRouter(tags=["early returns"])
PLANS = "/v1/training-plans"


@router.post(f"{PLANS}/{{id}}/early-return", status_code=201, response_model=Accepted)
async def file_early_return(
    id: UUID, body: FileEarlyReturn, command: Command, rules: RuleBookDep, _: Filer
) -> Response:
    """The trainee went home before the plan's end: the notice of difficulty for this cause, filed by the plan's
    supervising organization (type (b); `filing.through_supervising_organization`) or its employer (type (a);
    `filing.own_organization`), or an officer. With the trainee's confirmation of their own stated wish (taken in
    their language, before the return) and not contested, the plan ends at once (discontinued, reason early_return,
    on `returned_on`). Without it, or contested, the return is **flagged** for the agency: the plan stays in force,
    its ending by the return is refused (409 `early_return.unconfirmed`) until an officer decides, and the inspection
    service opens an extraordinary inspection of the employer. Refused (409): `early_return.plan_not_in_progress`,
    `early_return.pending`, `early_return.confirmation_after_return`, `early_return.difficulty_notice`. The detail and
    the trainee's words are kept sealed with the trainee's key. Answers the early return's id and the plan's
    version."""
    early_return_id = uuid4()
    return await command.execute(
        commands.file_early_return_home,
        id,
        early_return_id,
        returned_on=body.returned_on,
        filed_on=body.filed_on or today(),
        reason=body.reason,
        confirmation=body.confirmation.confirmation() if body.confirmation else None,
        detail=body.detail,
        statement=body.confirmation.statement if body.confirmation else None,
        difficulty_notice_id=body.difficulty_notice_id,
        rule_book=rules,
        filer=command.principal.only_organization,
        may_see=command.principal.may_see,
        created_at=f"{PLANS}/{id}/early-returns",
    )


@router.post(f"{PLANS}/{{id}}/early-return/decision", response_model=Accepted)
async def decide_early_return(id: UUID, body: DecideEarlyReturn, command: Command, _: OtitOfficer) -> Response:
    """An officer decides the flagged early return: `accept` ends the plan (discontinued, reason early_return, on the
    day of the return), `refuse` leaves it in force. Refused (409): `early_return.not_pending`,
    `early_return.decided_before_filing`, `early_return.plan_not_in_progress`."""
    return await command.execute(
        commands.decide_flagged_early_return,
        id,
        decided_on=body.decided_on or today(),
        decision=EarlyReturnDecision.ACCEPTED if body.decision == "accept" else EarlyReturnDecision.REFUSED,
        reason=body.reason,
        may_see=command.principal.may_see,
    )


@router.get(f"{PLANS}/{{id}}/early-returns", response_model=list[EarlyReturnDocument])
async def plan_early_returns(id: UUID, pool: PoolDep, store: StoreDep, principal: Reader) -> list[EarlyReturnDocument]:
    """The plan's early returns, oldest first. The detail and the trainee's own words are opened for the agency
    (OTIT, auditors, admin) only; the plan's organizations see the rest."""
    plan = await training_plans.training_plan(pool, store, id, today=today())
    if plan is None or not principal.may_see(plan["implementing_organization_id"], plan["supervising_organization_id"]):
        raise NotFound("training plan", id)
    async with pool.acquire() as conn:
        found = await early_returns.shown(
            conn, await early_returns.of_plan(conn, id), open_words=principal.only_organization is None
        )
    return [EarlyReturnDocument.model_validate(d) for d in found]


@router.get("/v1/early-returns", response_model=Page[EarlyReturnDocument])
async def list_early_returns(
    pool: PoolDep,
    _: AgencyReader,
    status: Annotated[EarlyReturnStatus | None, Query(description="flagged: the agency's worklist")] = None,
    implementing_organization_id: UUID | None = None,
    supervising_organization_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[EarlyReturnDocument]:
    """Early returns by the day filed: `status=flagged` is the worklist of returns awaiting an officer's decision."""
    async with pool.acquire() as conn:
        found = await early_returns.worklist(
            conn,
            status=status,
            implementing_organization_id=implementing_organization_id,
            supervising_organization_id=supervising_organization_id,
            after=cursor_day_and_id(cursor),
            limit=limit + 1,
        )
        shown = await early_returns.shown(conn, found, open_words=True)
    return page_of(
        [EarlyReturnDocument.model_validate(d) for d in shown], limit, lambda r: [r.filed_on.isoformat(), str(r.id)]
    )


@router.get("/v1/statistics/early-returns", response_model=EarlyReturnCounts)
async def early_return_counts(
    pool: PoolDep,
    _: AgencyReader,
    per: Annotated[
        Literal["implementing_organization", "supervising_organization"], Query(description="count per this")
    ] = "implementing_organization",
    scheme: Literal["titp", "esd"] | None = None,
    reason: EarlyReturnReason | None = None,
    from_month: FromMonth = None,
    to_month: ToMonth = None,
) -> EarlyReturnCounts:
    """Early returns by the month of the return (by default this month), by reason, per employer or supervising
    organization: all filed, the flagged ones (unwilling or unexplained: without the trainee's confirmed, uncontested
    wish) and the confirmed ones."""
    this_month = month_start(today())
    months = periods(
        month_of(from_month) if from_month else this_month, month_of(to_month) if to_month else this_month, 1
    )
    rows = await early_returns.counts(
        pool,
        per=per,
        first=months[0],
        last=last_day(months[-1], 1),
        scheme=scheme,
        reason=reason.value if reason else None,
    )
    tallies: dict[UUID | None, _Tally] = {}
    for row in rows:
        tally = tallies.setdefault(row["organization"], _Tally())
        tally.returns += row["returns"]
        tally.flagged += row["flagged"]
        tally.confirmed += row["confirmed"]
        tally.by_reason[row["reason"]] = row["returns"]
    total = _Tally()
    for tally in tallies.values():
        total.add(tally)
    listed = sorted(tallies.items(), key=lambda item: (-item[1].returns, str(item[0])))
    where = {"scheme": scheme, "reason": reason.value if reason else None}
    return EarlyReturnCounts.model_validate(
        {
            "per": per,
            "from_month": months[0].strftime("%Y-%m"),
            "to_month": months[-1].strftime("%Y-%m"),
            "where": {k: v for k, v in where.items() if v is not None},
            **asdict(total),
            "organizations": [{"organization_id": id, **asdict(tally)} for id, tally in listed],
        }
    )


@dataclass
class _Tally:
    returns: int = 0
    flagged: int = 0
    confirmed: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def add(self, other: "_Tally") -> None:
        self.returns += other.returns
        self.flagged += other.flagged
        self.confirmed += other.confirmed
        for reason, n in other.by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0) + n


@router.get("/v1/statistics/disappearances/per-employer", response_model=LossesPerEmployer)
async def losses_per_employer(
    pool: PoolDep,
    _: AgencyReader,
    scheme: Literal["titp", "esd"] | None = None,
    implementing_organization_id: UUID | None = None,
    from_fiscal_year: FiscalYear | None = None,
    to_fiscal_year: FiscalYear | None = None,
) -> LossesPerEmployer:
    """Disappearances and deaths per implementing organization and fiscal year (April-March, by the day it
    happened); by default the last five fiscal years."""
    years = fiscal_years(from_fiscal_year, to_fiscal_year)
    found = await plan_statistics.losses_per_employer(
        pool,
        fiscal_year_start(years[0]),
        fiscal_year_start(years[-1]),
        scheme=scheme,
        implementing_organization_id=str(implementing_organization_id) if implementing_organization_id else None,
    )
    answer = []
    for year in years:
        employers = found.get(fiscal_year_start(year), {})
        listed = sorted(
            (
                (employer, n["disappearance"], n["death"])
                for employer, n in employers.items()
                if n["disappearance"] or n["death"]
            ),
            key=lambda e: (-(e[1] + e[2]), e[0]),
        )
        answer.append(
            {
                **fiscal_year_span(year),
                "disappearances": sum(e[1] for e in listed),
                "deaths": sum(e[2] for e in listed),
                "implementing_organizations": [
                    {"implementing_organization_id": e, "disappearances": d, "deaths": x} for e, d, x in listed
                ],
            }
        )
    where = {
        "scheme": scheme,
        "implementing_organization_id": str(implementing_organization_id) if implementing_organization_id else None,
    }
    return LossesPerEmployer.model_validate(
        {"where": {k: v for k, v in where.items() if v is not None}, "fiscal_years": answer}
    )
