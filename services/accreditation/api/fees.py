"""Fees and debt over REST (issue 25 item 2): what the trainee paid before coming, declared on the plan by its
supervising organization (passing on the sending organization's statement and its own) or an officer; the plan's
fees; the statistics by sending organization and country, with the worklist of flagged sending organizations."""

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.accreditation import commands
from services.accreditation.api.auth import FeeDeclarer, Reader, StatisticsReader
from services.accreditation.api.fee_schemas import DeclareFees, FeeStatistics, PlanFeesDocument
from services.accreditation.api.training_plans import RuleBookDep
from services.accreditation.projections import fees as plan_fees
from services.accreditation.projections import training_plans
from shared.dates import month_start
from shared.errors import NotFound
from shared.web.app import PoolDep, StoreDep
from shared.web.http import Accepted, AsOf, Command, document_response, today
from shared.web.statistics import Month, month_of, periods

router = APIRouter(tags=["fees"])


@router.post("/v1/training-plans/{id}/fees", status_code=201, response_model=Accepted)
async def declare_fees(id: UUID, body: DeclareFees, command: Command, rules: RuleBookDep, _: FeeDeclarer) -> Response:
    """Declare what the trainee paid before coming (the plan's supervising organization for its own plans, or an
    officer); 201 with the declaration's id. It replaces the plan's earlier declaration. Refused (409, nothing
    recorded), naming the rule: `fees.deposit_forbidden`, `fees.penalty_contract_forbidden` (Act Art. 47),
    `fees.plan_rejected`, `fees.declared_before_application`, `fees.borrowed_above_total`,
    `fees.employer_share_esd_only`, `fees.sending_organization_named`. Above the ceiling the plan's sending
    organization is flagged (`SendingOrganizationFeesFlagged`, once per plan)."""
    return await command.execute(
        commands.declare_fees,
        id,
        declared_on=body.declared_on,
        items=[item.item() for item in body.items],
        borrowed_yen=body.borrowed_yen,
        employer_share_yen=body.employer_share_yen,
        rule_book=rules,
        may_see=command.principal.may_see,
        created_at=f"/v1/training-plans/{id}/fees",
    )


@router.get("/v1/training-plans/{id}/fees", response_model=PlanFeesDocument)
async def get_plan_fees(id: UUID, pool: PoolDep, store: StoreDep, principal: Reader, as_of: AsOf = None) -> Response:
    """The plan's fees: the declaration that stands (null before any), the flag, the earlier declarations; with
    `as_of`, as recorded by then."""
    found = await training_plans.training_plan(
        pool, store, id, today=today(), until=as_of.until if as_of else None, as_of=as_of.day if as_of else None
    )
    if found is None or not principal.may_see(
        found["implementing_organization_id"], found["supervising_organization_id"]
    ):
        raise NotFound("training plan", id)
    document = PlanFeesDocument(training_plan_id=id, fees=found.get("fees"), version=found["version"])
    return document_response(document.model_dump(mode="json"), document.version)


@router.get("/v1/statistics/fees", response_model=FeeStatistics)
async def get_fee_statistics(
    pool: PoolDep,
    _: StatisticsReader,
    by: Annotated[
        Literal["sending_organization", "country"], Query(description="group by the sending organization or country")
    ] = "sending_organization",
    scheme: Literal["titp", "esd"] | None = None,
    flagged: Annotated[
        bool | None,
        Query(
            description="the worklist: only the sending organizations (countries) flagged for fees above the ceiling"
        ),
    ] = None,
    from_month: Annotated[Month | None, Query(alias="from")] = None,
    to_month: Annotated[Month | None, Query(alias="to")] = None,
) -> FeeStatistics:
    """What trainees paid before coming, by the plans' latest declarations, per sending organization (or country:
    the sending organization's, or the trainee's nationality for a plan naming none) over the plans starting from
    `from` to `to` (months; by default this month): plans, total, mean and max in yen, plans above the ceiling,
    borrowed, and the day the group was first flagged. Rejected applications do not count."""
    this_month = month_start(today())
    months = periods(
        month_of(from_month) if from_month else this_month, month_of(to_month) if to_month else this_month, 1
    )
    groups, overall = await plan_fees.fee_statistics(
        pool, by=by, first_month=months[0], last_month=months[-1], scheme=scheme, flagged=flagged
    )
    where = {"from": months[0].strftime("%Y-%m"), "to": months[-1].strftime("%Y-%m")}
    if scheme:
        where["scheme"] = scheme
    if flagged is not None:
        where["flagged"] = str(flagged).lower()
    return FeeStatistics.model_validate({"by": by, "where": where, "groups": groups, "all": overall})
