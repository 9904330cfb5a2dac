"""What identifies an organization in the register, checked the same for every kind (DOMAIN §11): a corporate
number with its check digit (法人番号, the National Tax Agency's scheme) and a prefecture by its JIS X 0401 code.

A refusal here names its rule and the field it is about (`field` in the problem), like every registry refusal
that concerns one field of a request.
"""

from shared import reference
from shared.errors import DomainRuleViolation


def violation(rule: str, detail: str, field: str | None = None) -> DomainRuleViolation:
    """A domain refusal naming its rule and, when it is about one field of the request, that field."""
    return DomainRuleViolation(rule, detail, field)


def check_corporate_number(number: str, field: str = "corporate_number") -> None:
    if not reference.valid_corporate_number(number):
        raise violation(
            "corporate_number.check_digit",
            f"{number} is not a corporate number: its first digit is not the check digit of the other twelve",
            field,
        )


def check_prefecture(prefecture: str, field: str = "prefecture") -> str:
    """The JIS X 0401 code of the prefecture a request names by code or name ("Tokyo", "東京都", "13" -> "13"): what
    is recorded; one that names no prefecture is refused."""
    found = reference.prefecture(prefecture)
    if found is None:
        raise violation(
            "prefecture.unknown",
            f"{prefecture!r} names no prefecture: give its JIS X 0401 code (01-47) or its name (Tokyo, 東京都)",
            field,
        )
    return found.code


def prefecture_code(value: object) -> object:
    """A prefecture as its JIS X 0401 code, however named ("Tokyo", "東京都", "13" -> "13"). Events recorded before
    issue 19 carry the name given: read as its code (the upcast on read; the stored event is unchanged). A value that
    names no prefecture is left as it is, so every event ever recorded stays readable; a new request with one is
    refused (`check_prefecture`)."""
    return reference.prefecture_code(value) if isinstance(value, str) else value
