"""The shared reference data (DOMAIN §11): prefectures, transition operations, corporate numbers."""

import json
from importlib import resources

import pytest

from services.accreditation.domain.rules import TRANSITION_JOB_CATEGORIES
from shared import reference
from shared.reference import corporate_number_check_digit, valid_corporate_number

DATA = resources.files("shared.reference").joinpath("data")


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir() if p.name.endswith(".json")))
def test_every_data_file_is_json_and_loads(name):
    json.loads(DATA.joinpath(name).read_text(encoding="utf-8"))
    reference.load()


def test_the_47_prefectures_have_the_jis_codes_01_to_47_and_unique_names():
    prefectures = reference.prefectures()
    assert list(prefectures) == [f"{n:02d}" for n in range(1, 48)]
    assert len({p.name.casefold() for p in prefectures.values()}) == 47
    assert len({p.name_ja for p in prefectures.values()}) == 47
    assert all(p.name_ja[-1] in "都道府県" for p in prefectures.values())


@pytest.mark.parametrize(
    "value, code",
    [
        ("13", "13"),
        ("01", "01"),
        ("1", "01"),
        ("47", "47"),
        ("Tokyo", "13"),
        ("tokyo", "13"),
        ("TOKYO", "13"),
        (" Osaka ", "27"),
        ("Osaka-fu", "27"),
        ("Hokkaido", "01"),
        ("Okinawa", "47"),
        ("東京都", "13"),
        ("東京", "13"),
        ("北海道", "01"),
        ("大阪府", "27"),
        ("愛知県", "23"),
        ("Kochi", "39"),
        ("Hyogo", "28"),
        ("Hyōgo", "28"),
        ("Kōchi", "39"),
        ("ŌITA", "44"),
        ("１３", "13"),
        ("Ｔｏｋｙｏ", "13"),
    ],
)
def test_a_prefecture_is_found_by_code_english_or_japanese_name(value, code):
    assert reference.prefecture(value).code == code


@pytest.mark.parametrize("value", ["00", "48", "99", "0", "", "Tokio", "Edo", "東京府", "013", None, 13])
def test_anything_else_is_no_prefecture(value):
    assert reference.prefecture(value) is None


def test_operation_codes_are_unique_lowercase_and_under_their_job():
    raw = json.loads(DATA.joinpath("operations.json").read_text(encoding="utf-8"))["operations"]
    codes = [row["code"] for row in raw]
    assert len(codes) == len(set(codes)) == len(reference.operations())
    for op in reference.operations().values():
        assert op.code == op.code.lower() and " " not in op.code
        assert op.code.startswith(op.job_code + ".")
        assert op.last_stage in ("ii", "iii")
        assert op.field_limit in (None, "nursing_care", "construction")
    jobs = {op.job_code for op in reference.operations().values()}
    assert len(jobs) >= 85 and len(reference.operations()) >= 155  # the official list: about 91 jobs, 168 operations


def test_every_transition_job_category_of_the_accreditation_rules_has_operations():
    assert TRANSITION_JOB_CATEGORIES <= reference.job_categories()


def test_a_job_has_one_job_category_and_one_field_limit():
    by_job: dict[str, set] = {}
    for op in reference.operations().values():
        by_job.setdefault(op.job_code, set()).add((op.job, op.job_category, op.field_limit))
    assert all(len(v) == 1 for v in by_job.values())


@pytest.mark.parametrize(
    "code, last_stage, field_limit",
    [
        ("construction.carpentry.building", "iii", "construction"),
        ("construction.formwork.formwork", "iii", "construction"),
        ("other.nursing_care.nursing_care", "iii", "nursing_care"),
        ("fishery.fishing_vessel.stick_held_dip_net", "ii", None),  # 棒受網漁業: 2号のみ
        ("food.pickles.pickles", "ii", None),
        ("food.institutional_meals.institutional_meals", "ii", None),
        ("textiles.carpet.tufted", "ii", None),
        ("other.printing.gravure", "ii", None),
        ("other.printing.offset", "iii", None),
        ("other.accommodation.front_hygiene", "ii", None),
        ("agriculture.crop_farming.greenhouse_horticulture", "iii", None),
    ],
)
def test_known_operations(code, last_stage, field_limit):
    op = reference.operation(code)
    assert (op.last_stage, op.field_limit) == (last_stage, field_limit)
    assert op.reaches("i") and op.reaches("ii") and op.reaches("iii") == (last_stage == "iii")


def test_every_construction_operation_has_the_construction_limit_and_only_they_do():
    for op in reference.operations().values():
        assert (op.field_limit == "construction") == (op.job_category == "construction")
        assert (op.field_limit == "nursing_care") == (op.job_category == "nursing care")


@pytest.mark.parametrize(
    "code", ["", "construction", "construction.carpentry", "Construction.Carpentry.Building", None]
)
def test_an_unknown_operation_is_none(code):
    assert reference.operation(code) is None


@pytest.mark.parametrize(
    "number, valid",
    [
        ("1000011000005", True),  # the National Tax Agency (国税庁)
        ("1180301018771", True),  # Toyota Motor Corporation
        ("5010401067252", True),  # Sony Group Corporation
        ("2000011000005", False),  # the NTA's number with a wrong check digit
        ("9000011000005", False),
        ("1000011000006", False),  # one base digit changed
        ("0000000000000", False),  # the check digit is 1..9, never 0
        ("9000000000000", True),  # all-zero base: check digit 9
        ("1999999999999", False),
        ("100001100000", False),  # 12 digits
        ("10000110000050", False),  # 14 digits
        ("1000-11000005", False),
        ("１００００１１０００００５", False),  # full-width digits
        ("", False),
        (None, False),
        (1000011000005, False),
    ],
)
def test_a_corporate_number_has_13_digits_and_the_nta_check_digit(number, valid):
    assert valid_corporate_number(number) is valid


@pytest.mark.parametrize("base", ["000011000005", "180301018771", "010401067252", "000000000000", "999999999999"])
def test_the_check_digit_makes_a_valid_number_and_only_it_does(base):
    digit = corporate_number_check_digit(base)
    assert valid_corporate_number(digit + base)
    assert [d for d in "0123456789" if valid_corporate_number(d + base)] == [digit]


def test_a_broken_file_is_refused(monkeypatch):
    monkeypatch.setattr(reference, "_read", lambda name: {"operations": [{"code": "x"}], "prefectures": []})
    for loader in (reference.prefectures, reference.operations):
        loader.cache_clear()
    try:
        with pytest.raises(reference.ReferenceDataError):
            reference.prefectures()
        with pytest.raises(reference.ReferenceDataError):
            reference.operations()
    finally:
        monkeypatch.undo()
        for loader in (reference.prefectures, reference.operations):
            loader.cache_clear()
        reference.load()
