"""A completion and the end of the organization's permit at the same moment: whichever commits second
sees the first, so no inspection is left on the schedule of an organization whose permit ended."""

import asyncio
import uuid
from datetime import date

from contracts.inspection import InspectionReason, TargetType
from services.inspection.commands import cancel_open_inspections, schedule_first_inspection
from shared.commands import UnitOfWork
from shared.events import EventContext
from tests.e2e.test_inspection_story import worklist


async def test_a_completion_racing_a_revocation_leaves_nothing_scheduled(start_service, token):
    inspection = await start_service("inspection")
    app = inspection._transport.app
    runner, cadence = app.state.runner, app.state.cadence
    officer, calendar = token("otit"), EventContext(actor="test:registry")
    cooperatives = [uuid.uuid4() for _ in range(24)]
    async with app.state.pool.acquire() as conn, conn.transaction():
        for cooperative in cooperatives:  # as the subscription does on a PermitGranted
            await schedule_first_inspection(
                UnitOfWork(runner, conn, calendar),
                uuid.uuid4(),
                target_type=TargetType.SUPERVISING_ORGANIZATION,
                target_id=cooperative,
                reason=InspectionReason.PERMIT_GRANTED,
                since=date(2026, 5, 1),
                cadence=cadence,
            )

    async def complete(cooperative):
        [first] = await worklist(inspection, officer, target_id=str(cooperative))
        response = await inspection.post(
            f"/v1/inspections/{first['id']}/complete",
            headers=officer,
            json={"inspected_on": "2027-04-01", "inspector": "Kato", "outcome": "no_finding"},
        )
        assert response.status_code in (200, 409), response.text  # 409: cancelled first
        return response.status_code

    async def revoke(cooperative):
        async with app.state.pool.acquire() as conn, conn.transaction():  # as the subscription does on a PermitRevoked
            await cancel_open_inspections(
                UnitOfWork(runner, conn, calendar),
                target_type=TargetType.SUPERVISING_ORGANIZATION,
                target_id=cooperative,
                cancelled_on=date(2027, 4, 1),
                reason="permit_revoked",
            )

    results = await asyncio.gather(*[step(c) for c in cooperatives for step in (complete, revoke)])
    # Check: both orders happened or not, but every organization's schedule is empty afterwards.
    assert set(results) <= {200, 409, None}
    for cooperative in cooperatives:
        left = await worklist(inspection, officer, target_id=str(cooperative), status="scheduled")
        assert left == [], left
