"""Trainees: the erasure of their personal data (crypto-shredding, docs/adr/0002)."""

from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field

from services.accreditation import handlers
from shared.web.http import Accepted, Body
from shared.web.auth import Admin
from shared.web.http import Command

router = APIRouter(prefix="/v1/trainees", tags=["trainees"])


class ErasePersonalData(Body):
    reason: str = Field(min_length=1, max_length=2000, description="e.g. the trainee's request, or the end of"
                                                                   " the retention period")


@router.post("/{trainee_id}/erase", response_model=Accepted)
async def erase_personal_data(trainee_id: UUID, body: ErasePersonalData, command: Command, _: Admin) -> Response:
    """Destroy the trainee's key: their name, date of birth and passport number become unreadable in every
    stored and published copy; the plans' other history stays readable and every hash chain still holds."""
    return await command.run_work(lambda conn: handlers.erase_personal_data(
        command.runner, conn, trainee_id, body.reason, command.context))
