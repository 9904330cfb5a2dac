"""An officer's day at the console, in Debian's Chromium: sign in, find an application and grant the permit, see
the first inspection the grant schedules arrive on the worklist (over Kafka), see a refusal explained with the form
kept as typed, revoke a permit and find it on the public page without signing in, switch the language (dates in
the Japanese era), and reach everything with the keyboard and without an axe-core WCAG 2 A/AA violation.

The records the stories start from are filed through the registry's REST API, as a supervising organization's
own system would; everything the officer does is done in the browser. Each main page is kept as a screenshot in
the artefacts folder (conftest.py).
"""

import re
import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import AXE, SCREEN, STEP_TIMEOUT_MS, Console
from tests.helpers import grant, permit_application

pytestmark = pytest.mark.timeout(180)  # the first story also waits for the four services and the console to start

ARRIVAL_S = 30  # what crosses Kafka (a grant scheduling an inspection) arrives well within this
WCAG_2_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def a_year_before(day: date) -> date:
    return day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else day.replace(year=day.year - 1, day=28)


def file_application(console: Console, officer: dict[str, str], **overrides: Any) -> tuple[str, str]:
    """A supervising organization's permit application, filed through the registry's REST API: (id, name)."""
    name = f"Sakura Cooperative {uuid.uuid4().hex[:6]}"
    body = permit_application(name=name, **overrides)
    answer = httpx.post(f"{console.services['registry']}/v1/supervising-organizations", json=body, headers=officer)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], name


def granted_organization(console: Console, officer: dict[str, str], granted_on: str = "2026-05-01") -> tuple[str, str]:
    """A supervising organization whose general permit was granted through the registry's REST API: (id, name)."""
    id, name = file_application(console, officer)
    answer = httpx.post(
        f"{console.services['registry']}/v1/supervising-organizations/{id}/grant",
        json=grant(granted_on=granted_on),
        headers=officer,
    )
    assert answer.status_code == 200, answer.text
    return id, name


def registry_record(console: Console, officer: dict[str, str], id: str) -> dict[str, Any]:
    answer = httpx.get(f"{console.services['registry']}/v1/supervising-organizations/{id}", headers=officer)
    assert answer.status_code == 200, answer.text
    return answer.json()


def sign_in(page: Page, role: str = "otit", name: str = "Ito Hanako", lang: str = "en") -> None:
    """The dev sign-in: the officer names themself and picks a role; the console lands on today's work."""
    page.goto(f"/sign-in?lang={lang}")
    page.get_by_label("Your name" if lang == "en" else "氏名", exact=True).fill(name)
    page.get_by_label("Role" if lang == "en" else "役割", exact=True).select_option(role)
    page.locator("form.sign-in").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/$"))


def worklist(page: Page, key: str, resource: str):
    return page.locator(f'section.box[data-worklist="{key}"][data-resource="{resource}"]')


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is: one line each, with where. axe-core comes
    in as an init script (`page.add_init_script(path=AXE)`): the console's CSP rightly refuses an injected tag."""
    assert page.evaluate("typeof axe") == "object", "axe-core is not in the page: add_init_script(path=AXE) first"
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)",
        WCAG_2_AA,
    )
    return list(found)


def focus_path(page: Page, presses: int) -> list[str]:
    """What Tab reaches from the top of the page (as loaded), in order: each element as tag#id or tag.class (text)."""
    seen: list[str] = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : e.className ? '.' + e.className : '')"
            " + (e.id ? '' : ' (' + (e.textContent || '').trim().slice(0, 30) + ')') }"
        )
        if not seen or seen[-1] != here:  # a date input's day, month and year are one element
            seen.append(here)
    return seen


def test_an_officer_signs_in_and_sees_todays_work(page: Page, screenshot):
    page.goto("/")

    # Check: nobody is signed in, so the console asks who is at the desk first.
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))
    page.goto("/sign-in?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    screenshot(page, "01-sign-in")

    sign_in(page, role="otit", name="Ito Hanako")

    # Check: today's work, with the boxes of an OTIT officer's day, and who is signed in.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today's work")
    expect(page.locator("header")).to_contain_text("Signed in as: Ito Hanako (otit)")
    for key, resource in [
        ("waiting_decision", "supervising-organizations"),
        ("inspections_due", "inspections"),
        ("inspections_overdue", "inspections"),
        ("filings_overdue", "filings"),
    ]:
        expect(worklist(page, key, resource)).to_be_visible()
    expect(worklist(page, "waiting_decision", "supervising-organizations").get_by_role("heading")).to_contain_text(
        "Applications waiting for a decision"
    )
    screenshot(page, "02-dashboard")


def test_an_officer_finds_an_application_grants_the_permit_and_sees_the_first_inspection_on_the_worklist(
    page: Page, console: Console, token, screenshot
):
    officer = token("otit", subject="officer-ito")
    today = date.today()
    # Granted a year less ten days ago: its first regular inspection (a year after the grant) is due in ten days.
    granted_on = a_year_before(today + timedelta(days=10))
    id, name = file_application(
        console, officer, prefecture="47", applied_on=(granted_on - timedelta(days=30)).isoformat()
    )
    sign_in(page)

    # Check: the application waits for a decision on the dashboard, and opens from there.
    waiting = worklist(page, "waiting_decision", "supervising-organizations")
    expect(waiting.get_by_role("link", name=name)).to_have_attribute("href", f"/records/supervising-organizations/{id}")

    # Check: the list of supervising organizations finds it with a filter (applied, in Okinawa) and only it.
    page.get_by_role("navigation", name="Records").get_by_role("link", name="Supervising organizations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supervising organizations")
    page.locator("#filter-status").select_option("applied")
    page.locator("#filter-prefecture").fill("47")
    page.locator("form.filters").get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=applied"))
    rows = page.locator("#rows table.records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(name)
    screenshot(page, "03-list-filtered")

    rows.first.get_by_role("link", name=name).click()
    expect(page).to_have_url(re.compile(f"/records/supervising-organizations/{id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    screenshot(page, "04-record-applied")

    # The grant decision: its form, filled in as the officer decides, and sent.
    page.locator(f'a[href="/records/supervising-organizations/{id}/grant"]').click()
    expect(page).to_have_url(re.compile(f"/records/supervising-organizations/{id}/grant$"))
    page.locator("#permit_type").select_option("general")
    page.locator("#granted_on").fill(granted_on.isoformat())
    page.locator("#meets_excellence_standard").check()
    screenshot(page, "05-form-grant")
    page.locator("#decision form").get_by_role("button", name="Submit").click()

    # Check: recorded; the record's state is the active general permit, and its history has the grant by the officer.
    expect(page).to_have_url(re.compile(f"/records/supervising-organizations/{id}\\?done=grant$"))
    expect(page.get_by_role("status")).to_contain_text("Recorded.")
    state = page.locator("section[aria-labelledby=state] dl.state")
    expect(state).to_contain_text("active")
    expect(state).to_contain_text("general")
    granted_row = page.locator("#history tbody tr", has_text="PermitGranted")
    expect(granted_row).to_have_count(1)
    expect(granted_row).to_contain_text("Ito Hanako")
    assert registry_record(console, officer, id)["status"] == "active"
    screenshot(page, "06-record-granted")

    # Check: the first regular inspection the grant schedules crosses Kafka to the inspection service and appears
    # on the dashboard among the inspections due in 30 days, due a year after the grant.
    def scheduled() -> dict[str, Any] | None:
        answer = httpx.get(
            f"{console.services['inspection']}/v1/inspections", params={"target_id": id}, headers=officer
        )
        assert answer.status_code == 200, answer.text
        return next(iter(answer.json()["items"]), None)

    deadline = time.monotonic() + ARRIVAL_S
    while (inspection := scheduled()) is None:
        assert time.monotonic() < deadline, f"after {ARRIVAL_S}s, the grant scheduled no inspection"
        time.sleep(0.3)
    page.get_by_role("link", name="Today's work").click()
    due = worklist(page, "inspections_due", "inspections")
    expect(due.locator(f'a[href="/records/inspections/{inspection["id"]}"]')).to_be_visible()
    screenshot(page, "07-dashboard-inspection-due")
    due.locator(f'a[href="/records/inspections/{inspection["id"]}"]').click()
    expect(page.locator("section[aria-labelledby=state] dl.state")).to_contain_text(id)
    assert inspection["due_by"] == granted_on.replace(year=granted_on.year + 1).isoformat(), inspection
    screenshot(page, "08-record-inspection")


def test_a_refused_decision_shows_the_rule_and_its_reason_and_keeps_what_was_typed(
    page: Page, console: Console, token, screenshot
):
    officer = token("otit", subject="officer-ito")
    id, name = granted_organization(console, officer, granted_on="2026-05-01")
    sign_in(page)
    page.goto(f"/records/supervising-organizations/{id}")
    page.locator(f'a[href="/records/supervising-organizations/{id}/revoke"]').click()

    # A revocation dated before the permit was granted.
    page.locator("#revoked_on").fill("2026-04-01")
    page.locator("#ground").select_option("law_breached")
    page.locator("#reason").fill("Trainees' passports kept by the office\nfor six months")
    page.locator("#decision form").get_by_role("button", name="Submit").click()

    # Check: the refusal names its rule and says why in words, on the form's page.
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("The service refused this")
    expect(problem.locator("code.rule")).to_have_text("permit.not_yet_granted")
    expect(problem.locator(".detail")).to_have_text("2026-04-01 is before the grant on 2026-05-01")
    expect(page).to_have_url(re.compile(f"/records/supervising-organizations/{id}/revoke$"))

    # Check: everything the officer typed is still there, to correct and send again.
    expect(page.locator("#revoked_on")).to_have_value("2026-04-01")
    expect(page.locator("#ground")).to_have_value("law_breached")
    expect(page.locator("#reason")).to_have_value("Trainees' passports kept by the office\nfor six months")
    screenshot(page, "09-form-refused")

    # Check: nothing was recorded.
    assert registry_record(console, officer, id)["status"] == "active"


def test_a_revocation_shows_on_the_public_page_without_signing_in(
    browser, page: Page, console: Console, token, screenshot
):
    officer = token("otit", subject="officer-ito")
    id, name = granted_organization(console, officer, granted_on="2026-05-01")
    sign_in(page)
    page.goto(f"/records/supervising-organizations/{id}/revoke")
    page.locator("#revoked_on").fill("2026-11-02")
    page.locator("#ground").select_option("law_breached")
    page.locator("#reason").fill("wages unpaid for six months")
    page.locator("#decision form").get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded.")
    expect(page.locator("#history tbody tr", has_text="PermitRevoked")).to_have_count(1)
    assert registry_record(console, officer, id)["status"] == "revoked"

    # Check: anyone (a new browser: no sign-in) finds the revocation on the public page, with the organization's
    # name, the kind of action and its date.
    public = browser.new_context(base_url=console.url, viewport=SCREEN)
    try:
        anyone = public.new_page()
        anyone.set_default_timeout(STEP_TIMEOUT_MS)
        anyone.add_init_script(path=str(AXE))
        anyone.goto("/public/administrative-actions?lang=en")
        expect(anyone).to_have_url(re.compile(r"/public/administrative-actions\?lang=en$"))  # no sign-in asked
        row = anyone.locator("tr", has_text=name)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(re.compile(r"revo(cation|ked)", re.IGNORECASE))
        expect(row).to_contain_text("2 Nov 2026")
        assert axe_violations(anyone) == [], "the public page"
        screenshot(anyone, "10-public-administrative-actions")
    finally:
        public.close()


def test_the_language_switch_changes_the_words_and_shows_dates_in_the_japanese_era(
    page: Page, console: Console, token, screenshot
):
    officer = token("otit", subject="officer-ito")
    id, name = file_application(console, officer, applied_on="2026-04-01")
    sign_in(page, lang="en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today's work")

    # Check: the switch (named in the language it switches to) turns the page into Japanese, and it stays so.
    page.get_by_role("link", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_contain_text("本日の業務")
    today = date.today()
    expect(page.get_by_role("heading", level=1).locator("time")).to_have_attribute("datetime", today.isoformat())
    expect(page.get_by_role("heading", level=1).locator("time")).to_contain_text("令和")
    expect(page.get_by_role("navigation", name="記録").get_by_role("link", name="監理団体", exact=True)).to_be_visible()
    screenshot(page, "11-dashboard-ja")

    # Check: a record's dates and labels in Japanese: the day the application was filed, in the era.
    page.goto(f"/records/supervising-organizations/{id}")
    state = page.locator("section[aria-labelledby=state] dl.state")
    applied = state.locator("dt", has_text="申請日").locator("xpath=following-sibling::dd[1]")
    expect(applied).to_have_text("令和8年4月1日（2026年）")
    expect(page.get_by_role("heading", name="履歴")).to_be_visible()
    screenshot(page, "12-record-ja")

    # Check: and back to English.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(state.locator("dt", has_text="Applied on").locator("xpath=following-sibling::dd[1]")).to_have_text(
        "1 Apr 2026"
    )


def test_the_main_pages_meet_wcag_2_aa_and_work_with_the_keyboard(page: Page, console: Console, token, screenshot):
    officer = token("otit", subject="officer-ito")
    id, name = file_application(console, officer)

    # Check: no WCAG 2.0/2.1 A or AA violation (contrast, labels, names, landmarks...) on the sign-in page, the
    # dashboard, a list, a record and a decision's form, in Japanese (the default) and in English.
    pages = {
        "sign-in": "/sign-in",
        "dashboard": "/",
        "list": "/records/supervising-organizations?status=applied",
        "record": f"/records/supervising-organizations/{id}",
        "form": f"/records/supervising-organizations/{id}/grant",
    }
    page.add_init_script(path=str(AXE))
    page.goto("/sign-in")
    assert axe_violations(page) == [], "the sign-in page"
    # Check: the check sees a violation when there is one (a field whose label is gone).
    page.evaluate("document.querySelector('label[for=name]').remove()")
    assert any(line.startswith("label ") for line in axe_violations(page)), "axe-core found no unlabelled field"
    sign_in(page, lang="ja")
    for lang in ("ja", "en"):
        for label, path in pages.items():
            page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert axe_violations(page) == [], f"{label} ({lang}): {path}"

    # Check: Tab from the top reaches the skip link first, and it leads to the content.
    page.goto(f"/records/supervising-organizations/{id}/grant?lang=en")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to the content")
    expect(skip).to_be_visible()  # shown when it has the focus
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))

    # Check: from the top, Tab reaches the form's inputs in their order, then its button.
    page.goto(f"/records/supervising-organizations/{id}/grant")
    reached = focus_path(page, presses=40)
    assert reached[0] == "a.skip (Skip to the content)", reached
    assert "select#permit_type" in reached, reached
    start = reached.index("select#permit_type")
    assert reached[start : start + 4] == [
        "select#permit_type",
        "input#granted_on",
        "input#meets_excellence_standard",
        "button (Submit)",
    ], reached
    screenshot(page, "13-form-keyboard")
