"""Bar charts drawn on the server: the geometry of inline SVG (templates/charts.html draws it), from the statistics
routes' answers, with the same figures as a table for those who read rather than look. No JavaScript.

Colours: every bar colour has a contrast ratio of at least 3:1 against white (WCAG 2.1 1.4.11, graphical objects),
the ink at least 4.5:1 (1.4.3); `contrast()` computes the ratio, and the unit tests check the palette with it.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.console.i18n import era_year, word

PALETTE = ("#1f5f9e", "#b3541e", "#2e7d32", "#7b3fa0", "#a61b4a", "#00695c", "#5d4037", "#8a6d00")
INK = "#1a1a1a"
WHITE = "#ffffff"
MOST_SERIES = len(PALETTE)  # beyond it, the smallest values share the last colour as "other"
OTHER = "other"

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 52  # room for the count axis and two lines of period labels


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    colour: str


@dataclass(frozen=True)
class Key:
    """One entry of the legend, drawn under the chart: a swatch at (x, y) and the series' name beside it."""

    x: float
    y: float
    name: str
    colour: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    text: str  # what a pointer's tooltip says: "Jun 2026, VN: 3"


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Period:
    key: str  # "2026-06", "2026-Q1"
    name: str  # in the table: "Jun 2026", "令和8年6月"
    lines: tuple[str, ...]  # under its bars: ("Jun", "2026")
    x: float = 0.0  # the middle of its slot


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    series: list[Series]
    periods: list[Period]
    bars: list[Bar] = field(default_factory=list)
    legend: list[Key] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the table's columns after the period's
    rows: list[tuple[str, list[int]]] = field(default_factory=list)
    period_word: str = "month"  # the table's first column: month or quarter
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT

    @property
    def empty(self) -> bool:
        return not any(value for _, values in self.rows for value in values)


def contrast(colour: str, background: str = WHITE) -> float:
    """The WCAG 2.1 contrast ratio of two `#rrggbb` colours."""

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(colour), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def nice_ticks(highest: int) -> list[int]:
    """0 and round steps (1, 2 or 5 times a power of ten) up to at least `highest`, at most five steps."""
    if highest <= 0:
        return [0, 1]
    step = 1
    while True:
        for factor in (1, 2, 5):
            if highest <= 5 * step * factor:
                top = -(-highest // (step * factor)) * step * factor
                return list(range(0, top + 1, step * factor))
        step *= 10


LEGEND_ROW = 20
SWATCH = 12


def _text_width(text: str) -> float:
    """Roughly, at 12px: Latin letters 7px, Japanese characters 12px (enough to keep names from overlapping)."""
    return sum(12 if ord(c) > 0x2E7F else 7 for c in text)


def _legend(chart: Chart) -> None:
    """The series' names in rows under the period labels, wrapped to the chart's width; the chart grows to hold
    them."""
    x, y = float(chart.left), float(chart.height + 4)
    for series in chart.series:
        room = SWATCH + 6 + _text_width(series.name) + 18
        if x + room > chart.right and x > chart.left:
            x, y = float(chart.left), y + LEGEND_ROW
        chart.legend.append(Key(x, y, series.name, series.colour))
        x += room
    if chart.legend:
        chart.height = int(y + LEGEND_ROW + 4)


def _lay_out(chart: Chart, values: dict[tuple[str, str], int], *, stacked: bool) -> Chart:
    """Bars for `values[(period, series)]`: one stack per period, or one bar per series side by side."""
    _legend(chart)
    totals = [
        sum(values.get((p.key, s.key), 0) for s in chart.series)
        if stacked
        else max((values.get((p.key, s.key), 0) for s in chart.series), default=0)
        for p in chart.periods
    ]
    ticks = nice_ticks(max(totals, default=0))
    span = chart.bottom - chart.top
    scale = span / ticks[-1]
    chart.ticks = [Tick(chart.bottom - t * scale, t) for t in ticks]
    slot = (chart.right - chart.left) / max(len(chart.periods), 1)
    bar_room = slot * 0.7
    for index, period in enumerate(chart.periods):
        middle = chart.left + slot * (index + 0.5)
        chart.periods[index] = Period(period.key, period.name, period.lines, middle)
        base = float(chart.bottom)
        for place, series in enumerate(chart.series):
            value = values.get((period.key, series.key), 0)
            if not value:
                continue
            height = value * scale
            text = f"{period.name}, {series.name}: {value}"
            if stacked:
                base -= height
                chart.bars.append(Bar(middle - bar_room / 2, base, bar_room, height, series.colour, text))
            else:
                width = bar_room / len(chart.series)
                x = middle - bar_room / 2 + place * width
                chart.bars.append(Bar(x, chart.bottom - height, width, height, series.colour, text))
    return chart


def _month(key: str) -> date:
    return date.fromisoformat(f"{key}-01")


def month_name(key: str, lang: str) -> str:
    day = _month(key)
    if lang == "ja":
        return f"{era_year(day)}年{day.month}月（{day.year}年）"
    return day.strftime("%b %Y")


def _month_lines(keys: list[str], lang: str) -> list[tuple[str, ...]]:
    """Under each month its name, and its year under the first month and every January."""
    found: list[tuple[str, ...]] = []
    for index, key in enumerate(keys):
        day = _month(key)
        short = f"{day.month}月" if lang == "ja" else day.strftime("%b")
        if index == 0 or day.month == 1:
            year = f"{era_year(day)}年" if lang == "ja" else str(day.year)
            found.append((short, year))
        else:
            found.append((short,))
    return found


def value_name(by: str, value: str, lang: str) -> str:
    if value == OTHER:
        return word("other_values", lang)
    if by == "job_group":
        return word(f"job_group_{value}", lang)
    return value


def plans_certified_chart(id: str, title: str, body: dict[str, Any], lang: str) -> Chart:
    """Plans certified per month split by `body['by']` (nationality, job_group...), stacked: the most frequent
    values each with a colour of their own, the rest together as "other"; the table gives every value."""
    by = str(body.get("by") or "")
    months = body.get("months", [])
    keys = [m["month"] for m in months]
    totals: dict[str, int] = {}
    for m in months:
        for value, n in m.get("counts", {}).items():
            totals[value] = totals.get(value, 0) + n
    ranked = sorted(totals, key=lambda v: (-totals[v], v))
    shown = ranked if len(ranked) <= MOST_SERIES else ranked[: MOST_SERIES - 1]
    rest = [v for v in ranked if v not in shown]
    series = [Series(v, value_name(by, v, lang), PALETTE[i]) for i, v in enumerate(shown)]
    if rest:
        series.append(Series(OTHER, value_name(by, OTHER, lang), PALETTE[len(shown)]))
    values: dict[tuple[str, str], int] = {}
    for m in months:
        for value, n in m.get("counts", {}).items():
            slot = (m["month"], value if value in shown else OTHER)
            values[slot] = values.get(slot, 0) + n
    periods = [Period(k, month_name(k, lang), lines) for k, lines in zip(keys, _month_lines(keys, lang), strict=True)]
    summary = ", ".join(f"{value_name(by, v, lang)} {totals[v]}" for v in ranked) or word("no_figures", lang)
    chart = Chart(
        id=id,
        title=title,
        desc=f"{word('stacked_desc', lang)} {periods[0].name if periods else ''}–{periods[-1].name if periods else ''}"
        f": {summary.rstrip('.')}.",
        series=series,
        periods=periods,
        columns=[value_name(by, v, lang) for v in ranked] + [word("total", lang)],
        rows=[
            (month_name(m["month"], lang), [m.get("counts", {}).get(v, 0) for v in ranked] + [m.get("total", 0)])
            for m in months
        ],
    )
    return _lay_out(chart, values, stacked=True)


def fiscal_year_name(year: int, lang: str) -> str:
    """FY2026 (April 2026 to March 2027): 令和8年度 in Japanese."""
    if lang == "ja":
        return f"{era_year(date(year, 4, 1))}年度"
    return f"FY{year}"


def quarter_name(quarter: dict[str, Any], lang: str) -> str:
    year = fiscal_year_name(quarter["fiscal_year"], lang)
    if lang == "ja":
        return f"{year} 第{quarter['fiscal_quarter']}四半期"
    return f"{year} Q{quarter['fiscal_quarter']}"


def inspections_chart(id: str, title: str, body: dict[str, Any], lang: str) -> Chart:
    """Inspections done per quarter beside those overdue on its last day: two bars a quarter (not stacked: an
    overdue inspection is not a part of those done)."""
    quarters = body.get("quarters", [])
    measures = [("done", word("done_count", lang)), ("overdue", word("overdue_count", lang))]
    series = [Series(key, name, PALETTE[i]) for i, (key, name) in enumerate(measures)]
    periods = []
    for index, q in enumerate(quarters):
        short = f"第{q['fiscal_quarter']}" if lang == "ja" else f"Q{q['fiscal_quarter']}"
        first = index == 0 or q["fiscal_quarter"] == 1
        year = fiscal_year_name(q["fiscal_year"], lang) if first else None
        periods.append(
            Period(
                f"{q['fiscal_year']}-Q{q['fiscal_quarter']}", quarter_name(q, lang), (short, year) if year else (short,)
            )
        )
    values = {
        (period.key, key): int(q.get(key, 0))
        for period, q in zip(periods, quarters, strict=True)
        for key, _ in measures
    }
    done, overdue = (sum(int(q.get(k, 0)) for q in quarters) for k, _ in measures)
    summary = f"{word('done_count', lang)} {done}, {word('overdue_count', lang)} {overdue}"
    chart = Chart(
        id=id,
        title=title,
        desc=f"{word('grouped_desc', lang)} {summary}.",
        series=series,
        periods=periods,
        columns=[name for _, name in measures],
        period_word="quarter",
        rows=[(p.name, [int(q.get(k, 0)) for k, _ in measures]) for p, q in zip(periods, quarters, strict=True)],
    )
    return _lay_out(chart, values, stacked=False)
