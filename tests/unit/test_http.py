"""Request headers and parameters the write path reads: ETags in If-Match."""

import pytest

from shared.web.http import parse_etag
from shared.web.problems import InvalidParameter


@pytest.mark.parametrize(
    "value, version", [('"3"', 3), ('W/"3"', 3), ("3", 3), (None, None), ('"2147483647"', 2**31 - 1)]
)
def test_an_etag_names_a_version(value, version):
    assert parse_etag(value) == version


@pytest.mark.parametrize("value", ['"abc"', '"-1"', '"2147483648"', '"999999999999999999999999999999"', '"３"', ""])
def test_anything_else_is_a_422_naming_the_header(value):
    with pytest.raises(InvalidParameter) as refused:
        parse_etag(value)
    assert refused.value.status == 422
    assert refused.value.members["errors"][0]["field"] == "header.If-Match"
