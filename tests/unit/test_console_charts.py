"""The charts' geometry and colours (services/console/charts.py): pure, from statistics answers as the services give
them."""

import pytest

from services.console.charts import (
    INK,
    MOST_SERIES,
    PALETTE,
    contrast,
    inspections_chart,
    nice_ticks,
    plans_certified_chart,
)


def months(*counts: dict[str, int]) -> dict:
    return {
        "by": "nationality",
        "where": {},
        "months": [
            {"month": f"2026-{i + 1:02d}", "last_day": "", "total": sum(c.values()), "counts": c}
            for i, c in enumerate(counts)
        ],
    }


def test_every_bar_colour_stands_out_from_white_and_the_ink_is_readable():
    assert all(contrast(colour) >= 3 for colour in PALETTE), {c: round(contrast(c), 2) for c in PALETTE}
    assert contrast(INK) >= 4.5
    assert len(set(PALETTE)) == len(PALETTE)


@pytest.mark.parametrize(
    ("highest", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (5, [0, 1, 2, 3, 4, 5]),
        (7, [0, 2, 4, 6, 8]),
        (23, [0, 5, 10, 15, 20, 25]),
        (96, [0, 20, 40, 60, 80, 100]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_the_count_axis_has_at_most_five_round_steps_up_to_the_highest_bar(highest, ticks):
    assert nice_ticks(highest) == ticks


def test_a_month_stacks_its_values_up_to_its_total_within_the_plot():
    chart = plans_certified_chart("c", "Plans", months({"VN": 2, "PH": 1}, {}, {"VN": 3}), "en")
    scale = (chart.bottom - chart.top) / chart.ticks[-1].value
    january = [b for b in chart.bars if b.text.startswith("Jan 2026")]
    assert [b.text for b in january] == ["Jan 2026, VN: 2", "Jan 2026, PH: 1"]
    assert sum(b.height for b in january) == pytest.approx(3 * scale)
    assert january[0].y + january[0].height == pytest.approx(chart.bottom)  # the first value sits on the axis
    assert january[1].y + january[1].height == pytest.approx(january[0].y)  # the next one on top of it
    assert all(chart.left <= b.x and b.x + b.width <= chart.right and b.y >= chart.top for b in chart.bars)
    assert [p.lines for p in chart.periods] == [("Jan", "2026"), ("Feb",), ("Mar",)]
    assert chart.columns == ["VN", "PH", "Total"]
    assert chart.rows == [("Jan 2026", [2, 1, 3]), ("Feb 2026", [0, 0, 0]), ("Mar 2026", [3, 0, 3])]


def test_beyond_the_palette_the_least_frequent_values_share_one_colour_as_other_and_the_table_keeps_each():
    counts = {f"C{i}": 20 - i for i in range(MOST_SERIES + 2)}
    chart = plans_certified_chart("c", "Plans", months(counts), "en")
    assert [s.key for s in chart.series] == [f"C{i}" for i in range(MOST_SERIES - 1)] + ["other"]
    other = [b for b in chart.bars if ", Other:" in b.text]
    assert [b.text for b in other] == [
        f"Jan 2026, Other: {sum(20 - i for i in range(MOST_SERIES - 1, MOST_SERIES + 2))}"
    ]
    assert len(chart.columns) == MOST_SERIES + 2 + 1  # every value, and the total


def test_in_japanese_months_are_named_in_the_era_and_fields_in_words():
    body = {**months({"construction": 1}), "by": "job_group"}
    chart = plans_certified_chart("c", "計画", body, "ja")
    assert chart.periods[0].lines == ("1月", "令和8年")
    assert chart.rows[0][0] == "令和8年1月（2026年）"
    assert chart.columns == ["建設", "合計"]


def test_inspections_stand_beside_those_overdue_per_quarter():
    body = {
        "target_type": None,
        "quarters": [
            {"from": "2026-04-01", "to": "2026-06-30", "fiscal_year": 2026, "fiscal_quarter": 1, "done": 4,
             "with_findings": 1, "overdue": 2, "overdue_on": "2026-06-30"},
            {"from": "2026-07-01", "to": "2026-09-30", "fiscal_year": 2026, "fiscal_quarter": 2, "done": 0,
             "with_findings": 0, "overdue": 1, "overdue_on": "2026-09-30"},
        ],
    }  # fmt: skip
    chart = inspections_chart("i", "Inspections", body, "en")
    first = [b for b in chart.bars if b.text.startswith("FY2026 Q1")]
    assert [b.text for b in first] == ["FY2026 Q1, Done: 4", "FY2026 Q1, Overdue: 2"]
    assert first[0].y + first[0].height == pytest.approx(first[1].y + first[1].height)  # side by side, on the axis
    assert first[0].x + first[0].width == pytest.approx(first[1].x)
    assert chart.rows == [("FY2026 Q1", [4, 2]), ("FY2026 Q2", [0, 1])]
    assert [p.lines for p in chart.periods] == [("Q1", "FY2026"), ("Q2",)]
    assert not chart.empty and inspections_chart("i", "I", {"quarters": []}, "en").empty
    in_japanese = inspections_chart("i", "実地検査", body, "ja")
    assert in_japanese.rows[0][0] == "令和8年度 第1四半期"
    assert in_japanese.periods[0].lines == ("第1", "令和8年度")
