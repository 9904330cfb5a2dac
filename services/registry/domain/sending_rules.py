"""The countries with a Memorandum of Cooperation (MoC) with Japan (DOMAIN §1, §11): their sending organizations must
be on their government's certified list (`approval_reference`). Every country's also need a public body's
recommendation; an MoC is no precondition to send trainees.

The list is configurable (`TITP_REGISTRY_MOC_COUNTRIES`, read by the registry app); these are the defaults.
"""

from collections.abc import Iterable

MOC_COUNTRIES = frozenset(
    {
        "VN",
        "KH",
        "IN",
        "PH",
        "LA",
        "MN",
        "BD",
        "LK",
        "MM",
        "BT",
        "PK",
        "TH",
        "NP",
        "UZ",
        "ID",
        "PE",  # listed by one source only, unconfirmed
    }
)


def country_codes(codes: str | Iterable[str]) -> frozenset[str]:
    """`"vn, PH"` or `["vn", "PH"]` -> {"VN", "PH"}; refuses anything but ISO 3166-1 alpha-2 codes."""
    listed = codes.split(",") if isinstance(codes, str) else codes
    countries = frozenset(code.strip().upper() for code in listed if code.strip())
    if bad := sorted(c for c in countries if len(c) != 2 or not c.isascii() or not c.isalpha()):
        raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
    if not countries:
        raise ValueError("at least one MoC country is needed")
    return countries


def has_moc(country: str, moc_countries: frozenset[str] = MOC_COUNTRIES) -> bool:
    return country in moc_countries
