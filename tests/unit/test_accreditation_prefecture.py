"""Prefectures in accreditation (issue 19): the registry's events carry the JIS X 0401 code since issue 19 and the
name before; every comparison and grouping here takes them as one prefecture."""

import pytest
from pydantic import ValidationError

from services.accreditation.app import AccreditationSettings
from services.accreditation.domain.rules import (
    METROPOLITAN_PREFECTURES,
    designated_area,
    prefecture_code,
    prefecture_codes,
)
from services.accreditation.projections.statistics import prefecture_spellings

TOKYO_AND_NAGOYA = frozenset({"13", "23"})


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("13", "13"),
        ("1", "01"),
        ("Tokyo", "13"),
        ("tokyo", "13"),
        ("東京都", "13"),
        ("Hokkaido", "01"),
        ("Kōchi", "39"),
        ("Atlantis", "Atlantis"),  # accepted by the registry before issue 19: kept as given
        (" Atlantis ", "Atlantis"),
        (None, None),
        ("", None),
    ],
)
def test_a_prefecture_is_its_code_whichever_way_the_event_gives_it(value, code):
    assert prefecture_code(value) == code


def test_the_metropolitan_prefectures_are_eight_codes():
    assert prefecture_codes(METROPOLITAN_PREFECTURES) == {"11", "12", "13", "14", "23", "26", "27", "28"}


@pytest.mark.parametrize(
    ("prefecture", "metropolitan", "designated"),
    [
        ("Tokyo", METROPOLITAN_PREFECTURES, False),
        ("13", METROPOLITAN_PREFECTURES, False),
        ("東京都", METROPOLITAN_PREFECTURES, False),
        ("tokyo", METROPOLITAN_PREFECTURES, False),
        ("Osaka-fu", METROPOLITAN_PREFECTURES, False),
        ("Aomori", METROPOLITAN_PREFECTURES, True),
        ("02", METROPOLITAN_PREFECTURES, True),
        ("青森県", METROPOLITAN_PREFECTURES, True),
        # A list configured by code matches a name, and by name a code.
        ("Aichi", TOKYO_AND_NAGOYA, False),
        ("23", frozenset({"Tokyo", "Aichi"}), False),
        ("27", frozenset({"Tokyo", "Aichi"}), True),
        (None, METROPOLITAN_PREFECTURES, False),  # unknown: not in a designated area
    ],
)
def test_designated_areas_compare_codes_and_names_alike(prefecture, metropolitan, designated):
    assert designated_area(prefecture, metropolitan) is designated


def test_the_metropolitan_setting_takes_codes_or_names_and_refuses_others():
    rules = AccreditationSettings(esd_metropolitan_prefectures="Tokyo, 大阪府,23").rule_book().esd
    assert prefecture_codes(rules.metropolitan_prefectures) == {"13", "27", "23"}
    assert not designated_area("東京都", rules.metropolitan_prefectures)
    assert not designated_area("27", rules.metropolitan_prefectures)
    assert designated_area("Aomori", rules.metropolitan_prefectures)
    with pytest.raises(ValidationError, match="Atlantis"):
        AccreditationSettings(esd_metropolitan_prefectures="Tokyo,Atlantis")


@pytest.mark.parametrize(
    ("value", "spellings"),
    [
        ("23", ["23", "Aichi", "愛知県"]),
        ("Aichi", ["23", "Aichi", "愛知県"]),
        ("愛知", ["23", "Aichi", "愛知県"]),
        ("unknown", ["unknown"]),
        ("Atlantis", ["Atlantis"]),
    ],
)
def test_statistics_find_a_prefecture_under_its_code_and_its_names(value, spellings):
    assert prefecture_spellings(value) == spellings
