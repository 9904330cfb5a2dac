"""Reference data the services share: prefectures (JIS X 0401), the TITP jobs and operations whose trainees may go on
past stage i (移行対象職種・作業), and the check digit of corporate numbers (法人番号).

The data lives in JSON files next to this module (data/); `load()` reads and validates every file once, so a service
that calls it at start fails fast on a broken file. Everything here is pure once loaded: no clock, no network.
"""

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "Operation",
    "Prefecture",
    "ReferenceDataError",
    "job_categories",
    "load",
    "operation",
    "operations",
    "prefecture",
    "prefectures",
    "valid_corporate_number",
]

STAGES = ("ii", "iii")  # the last stage an operation's trainees may reach (ii: "2号まで", iii: on to stage iii)
FIELD_LIMITS = ("nursing_care", "construction")  # field quota limits (DOMAIN §11, §3 type (a))


class ReferenceDataError(ValueError):
    """A reference data file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Prefecture:
    code: str  # "01".."47" (JIS X 0401)
    name: str  # English, "Tokyo"
    name_ja: str  # "東京都"


@dataclass(frozen=True)
class Operation:
    code: str  # "construction.carpentry.building": <group>.<job>.<operation>, stable, lowercase
    job_code: str  # "construction.carpentry"
    job: str  # the job (職種), English
    name: str  # the operation (作業), English
    job_category: str  # the coarse group the accreditation rules use ("construction", "food manufacturing", ...)
    last_stage: str  # "ii" or "iii": the last TITP stage its trainees may reach
    ssw_field: str | None  # the SSW (i) field it relates to, or None
    field_limit: str | None  # "nursing_care" | "construction" | None: the field quota limits that apply
    job_ja: str = ""
    name_ja: str = ""
    group: str = ""  # the official list's group (agriculture, fishery, construction, food, textiles, machinery, other)

    def reaches(self, stage: str) -> bool:
        """Whether a plan of this operation may be at `stage` ("i", "ii" or "iii")."""
        return stage in ("i", "ii") or (stage == "iii" and self.last_stage == "iii")


def _read(name: str) -> dict[str, Any]:
    try:
        document = json.loads(resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ReferenceDataError(f"reference data file {name}: {e}") from None
    if not isinstance(document, dict):
        raise ReferenceDataError(f"reference data file {name}: not a JSON object")
    return document


@cache
def prefectures() -> dict[str, Prefecture]:
    """The 47 prefectures by JIS X 0401 code, in code order."""
    rows = _read("prefectures.json").get("prefectures")
    if not isinstance(rows, list):
        raise ReferenceDataError("prefectures.json: no 'prefectures' list")
    found: dict[str, Prefecture] = {}
    for row in rows:
        try:
            p = Prefecture(code=row["code"], name=row["name"], name_ja=row["name_ja"])
        except (KeyError, TypeError) as e:
            raise ReferenceDataError(f"prefectures.json: bad row {row!r}: {e}") from None
        if p.code in found:
            raise ReferenceDataError(f"prefectures.json: code {p.code} twice")
        found[p.code] = p
    expected = [f"{n:02d}" for n in range(1, 48)]
    if sorted(found) != expected:
        raise ReferenceDataError("prefectures.json: the codes are not exactly 01..47")
    return found


@cache
def _prefecture_index() -> dict[str, Prefecture]:
    index: dict[str, Prefecture] = {}
    for p in prefectures().values():
        index[p.code] = p
        index[p.name.casefold()] = p
        index[p.name_ja] = p
        # "Tokyo-to", "Osaka-fu", "Aichi-ken", and the Japanese name without its suffix ("東京", "大阪")
        for suffix in ("-to", "-fu", "-ken", " prefecture"):
            index[f"{p.name}{suffix}".casefold()] = p
        if p.name_ja != "北海道":
            index[p.name_ja[:-1]] = p
    return index


def prefecture(value: str) -> Prefecture | None:
    """The prefecture with this JIS code ("13", or "1" for "01"), English name (any case, macrons or not: "Kōchi")
    or Japanese name ("高知県", or "高知")."""
    if not isinstance(value, str):
        return None
    key = unicodedata.normalize("NFKC", value).strip()  # full-width digits and letters as ASCII
    if key.isascii() and key.isdigit() and len(key) <= 2:
        key = key.zfill(2)
    index = _prefecture_index()
    found = index.get(key) or index.get(key.casefold())
    if found is None:  # "Kōchi", "Hyōgo": the English names without their long-vowel marks
        plain = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
        found = index.get(plain.casefold())
    return found


def prefecture_code(value: str) -> str:
    """`value` as its prefecture's JIS code when it names one, else as given: events recorded before issue 19 carry
    the name that was filed ("Tokyo", "東京都"), read as the code ("13"); one naming no prefecture stays readable."""
    found = prefecture(value)
    return found.code if found is not None else value


@cache
def operations() -> dict[str, Operation]:
    """The transition operations (移行対象職種・作業) by code."""
    rows = _read("operations.json").get("operations")
    if not isinstance(rows, list) or not rows:
        raise ReferenceDataError("operations.json: no 'operations' list")
    found: dict[str, Operation] = {}
    for row in rows:
        try:
            op = Operation(**row)
        except TypeError as e:
            raise ReferenceDataError(f"operations.json: bad row {row!r}: {e}") from None
        problems = [
            what
            for what, bad in (
                ("code", not op.code or op.code != op.code.lower() or not op.code.startswith(op.job_code + ".")),
                ("names", not (op.job and op.name and op.job_category)),
                ("last_stage", op.last_stage not in STAGES),
                ("field_limit", op.field_limit is not None and op.field_limit not in FIELD_LIMITS),
                ("ssw_field", op.ssw_field is not None and not op.ssw_field),
            )
            if bad
        ]
        if problems:
            raise ReferenceDataError(f"operations.json: {op.code!r} has a bad {', '.join(problems)}")
        if op.code in found:
            raise ReferenceDataError(f"operations.json: code {op.code} twice")
        found[op.code] = op
    return found


def operation(code: str) -> Operation | None:
    return operations().get(code) if isinstance(code, str) else None


@cache
def job_categories() -> frozenset[str]:
    """Every job_category an operation has."""
    return frozenset(op.job_category for op in operations().values())


def valid_corporate_number(number: str) -> bool:
    """13 digits whose first is the National Tax Agency's check digit over the 12 that follow.

    Check digit = 9 - (sum of P_n * Q_n for n = 1..12) mod 9, where P_n is the n-th of the 12 digits counted from the
    right and Q_n is 1 for odd n and 2 for even n (法人番号の指定等に関する省令 §2). 1000011000005 (the NTA) is valid.
    """
    if not isinstance(number, str) or len(number) != 13 or not number.isascii() or not number.isdigit():
        return False
    base = number[1:]
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return int(number[0]) == 9 - total % 9


def corporate_number_check_digit(base: str) -> str:
    """The check digit for a 12-digit base number (for generators and tests)."""
    if len(base) != 12 or not base.isascii() or not base.isdigit():
        raise ValueError("a corporate number's base is 12 digits")
    return str(9 - sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1)) % 9)


def load() -> None:
    """Read and validate every reference file; raises ReferenceDataError on a broken one."""
    prefectures()
    _prefecture_index()
    operations()
    job_categories()
