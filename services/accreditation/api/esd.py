"""Employment for Skill Development's reference data (DOMAIN §9): the fields, their transfer periods and
Japanese levels, and each field's national cap with the room left in a fiscal year."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.accreditation.api.auth import Reader
from services.accreditation.api.schemas import EsdFields
from services.accreditation.api.training_plans import RuleBookDep
from services.accreditation.projections import training_plans
from shared.dates import fiscal_year
from shared.web.app import PoolDep
from shared.web.http import today

router = APIRouter(prefix="/v1/esd", tags=["esd"])


@router.get("/fields", response_model=EsdFields)
async def list_esd_fields(
    pool: PoolDep,
    rules: RuleBookDep,
    _: Reader,
    fiscal_year_: Annotated[
        int | None,
        Query(alias="fiscal_year", ge=2000, le=2100, description="FY2027 starts on 2027-04-01 (default: this one)"),
    ] = None,
) -> EsdFields:
    """Every ESD field: its transfer period and the Japanese level a transfer needs, its national cap in the
    fiscal year and the room left (plans refused with `esd.national_cap` once there is none)."""
    year = fiscal_year_ or fiscal_year(today())
    workers = await training_plans.workers_per_field(pool, year)
    esd = rules.esd
    return EsdFields.model_validate(
        {
            "fiscal_year": year,
            "fields": [
                {
                    "field": name,
                    "name": field.name,
                    "transfer_period_years": field.transfer_years,
                    "transfer_japanese_level": field.transfer_japanese,
                    "cap": (cap := esd.cap(name, year)),
                    "workers": workers.get(name, 0),
                    "room_left": None if cap is None else max(0, cap - workers.get(name, 0)),
                }
                for name, field in esd.fields.items()
            ],
        }
    )
