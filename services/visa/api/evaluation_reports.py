"""The implementing organizations' evaluation reports (評価調書) on trainees' TITP stage ii, as immigration
receives them: for Specified Skilled Worker (i) one stands in for grade 3 (DOMAIN §11)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from contracts.visa import evaluation_report_id
from services.visa import commands
from services.visa.api.auth import ImmigrationOfficer, Reader
from services.visa.api.schemas import EvaluationReportDocument, ReceiveEvaluationReport
from services.visa.projections.queries import EVALUATION_REPORTS
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command, Page, document_response

router = APIRouter(prefix="/v1/evaluation-reports", tags=["evaluation reports"])


@router.post("", status_code=201, response_model=Accepted)
async def receive_evaluation_report(body: ReceiveEvaluationReport, command: Command, _: ImmigrationOfficer) -> Response:
    """Record the evaluation report on a trainee's TITP stage-ii plan, one per plan."""
    return await command.execute(
        commands.receive_evaluation_report,
        body.training_plan_id,
        written_on=body.written_on,
        received_on=body.received_on,
        created_at=f"{router.prefix}/{evaluation_report_id(body.training_plan_id)}",
    )


@router.get("/{id}", response_model=EvaluationReportDocument)
async def get_evaluation_report(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One evaluation report; with `as_of`, only if it was recorded by then."""
    document, version = await EVALUATION_REPORTS.one(request.app.state.runner, id, as_of)
    return document_response(EvaluationReportDocument.model_validate(document).model_dump(mode="json"), version)


@router.get("", response_model=Page[EvaluationReportDocument])
async def list_evaluation_reports(
    pool: PoolDep,
    _: Reader,
    trainee_id: UUID | None = None,
    training_plan_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Evaluation reports, filtered, in id order, a page at a time."""
    return await EVALUATION_REPORTS.page(pool, limit, cursor, trainee_id=trainee_id, training_plan_id=training_plan_id)
