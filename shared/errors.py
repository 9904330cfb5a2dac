"""What a command or a query can be refused with: plain exceptions, no web, no database.

The domain, the core and the tools raise these; the HTTP edge (`shared.web.problems`) turns
each into an RFC 9457 problem with its status. A domain refusal names its rule.
"""

from typing import Any


def one_line(error: BaseException) -> str:
    """An exception as an operator reads it on one line: its class (unless its message names it) and its message,
    whitespace folded."""
    said, kind = " ".join(str(error).split()), type(error).__name__
    return said if kind in said else f"{kind}: {said}" if said else kind


class Problem(Exception):
    """A refusal the caller is told about: a problem kind (`problem`), a human detail, and
    members that say more (the rule, the resource, the versions)."""

    problem: str = "internal-error"

    def __init__(self, detail: str, **members: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.members = members


class DomainRuleViolation(Problem):
    """A rule of the program refuses the command; `rule` names it, e.g. `permit-not-suspended`, and `field` the
    request field it is about, when it is about one."""

    def __init__(self, rule: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail, rule=rule, **({"field": field} if field else {}))
        self.rule = rule

    @property
    def problem(self) -> str:  # type: ignore[override]
        return f"rule/{self.rule}"


class NotFound(Problem):
    problem = "not-found"

    def __init__(self, resource: str, id: Any) -> None:
        super().__init__(f"{resource} {id} not found", resource=resource, id=str(id))


class PreconditionFailed(Problem):
    """`If-Match` names a version that is no longer the current one."""

    problem = "precondition-failed"

    def __init__(self, expected: Any, actual: Any) -> None:
        super().__init__(
            f"If-Match expected version {expected}, but the current version is {actual}",
            expected=expected,
            actual=actual,
        )


class ConflictError(Problem):
    """A concurrent change won, or an Idempotency-Key was reused with another request."""

    problem = "conflict"


class EventTooLarge(Problem):
    """An event the command would record is larger than the broker accepts (`shared.store.MAX_EVENT_BYTES`):
    `field` names the payload member that takes most of it."""

    problem = "event-too-large"

    def __init__(self, event_type: str, field: str, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(
            f"the {event_type} event would be {size_bytes} bytes, over the limit of {limit_bytes};"
            f" its largest field is {field}",
            field=field,
            size_bytes=size_bytes,
            limit_bytes=limit_bytes,
        )
