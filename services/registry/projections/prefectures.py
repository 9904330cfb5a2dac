"""Prefectures in the read models: rows written before issue 19 hold a prefecture's name ("Tokyo"), rows since its
JIS X 0401 code ("13"). A filter matches both; what a client is shown is the code."""

from shared import reference
from shared.web.problems import InvalidParameter


def prefecture_forms(value: str | None, parameter: str = "query.prefecture") -> list[str] | None:
    """Every form a filter's prefecture may be stored in (code, English and Japanese name); None for no filter.
    A value that names no prefecture is refused (422), naming `parameter`."""
    if value is None:
        return None
    found = reference.prefecture(value)
    if found is None:
        raise InvalidParameter(parameter, "names no prefecture: a JIS X 0401 code (01-47) or its name (Tokyo, 東京都)")
    return [found.code, found.name, found.name_ja]
