"""Trainees: the erasure of their personal data (crypto-shredding, docs/adr/0002)."""

from uuid import UUID

from fastapi import APIRouter, Response

from services.accreditation import commands
from services.accreditation.api.schemas import ErasePersonalData
from shared.web.auth import Admin
from shared.web.http import Accepted, Command

router = APIRouter(prefix="/v1/trainees", tags=["trainees"])


@router.post("/{trainee_id}/erase", response_model=Accepted)
async def erase_personal_data(trainee_id: UUID, body: ErasePersonalData, command: Command, _: Admin) -> Response:
    """Destroy the trainee's key: their name, date of birth and passport number become unreadable in every
    stored and published copy; the plans' other history stays readable and every hash chain still holds."""
    return await command.execute(commands.erase_personal_data, trainee_id, reason=body.reason)
