"""A trainee's own record: the erasure of their personal data (docs/adr/0002).

Its stream is `trainee_stream_id(trainee_id)`; its state is whether the data was erased.
"""

from uuid import UUID

from contracts.accreditation import TraineePersonalDataErased
from shared.errors import DomainRuleViolation
from shared.events import EventPayload


def evolve(erased: bool, event: EventPayload) -> bool:
    return erased or isinstance(event, TraineePersonalDataErased)


def erase_personal_data(erased: bool, trainee_id: UUID, reason: str) -> list[EventPayload]:
    if erased:
        raise DomainRuleViolation("trainee.already_erased", "the trainee's personal data was already erased")
    return [TraineePersonalDataErased(trainee_id=trainee_id, reason=reason)]
