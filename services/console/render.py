"""One way to answer with a page: the template, the officer's language, who is signed in, and the menu."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.console import i18n
from services.console.catalogue import menu_for, record_link
from services.console.session import officer_of

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")  # autoescapes .html
templates.env.globals.update(
    word=i18n.word,
    resource_name=i18n.resource_name,
    label_of=i18n.label_of,
    show_date=i18n.show_date,
    as_day=i18n.as_day,
    event_name=i18n.event_name,
    decision_name=i18n.decision_name,
    record_link=record_link,
)
LANG_COOKIE = "lang"


def language(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    other = "en" if lang == "ja" else "ja"
    officer = officer_of(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "other_lang": other,
            # The same page (its filters too) in the other language.
            "lang_switch": request.url.path + "?" + str(request.url.include_query_params(lang=other).query),
            "officer": officer,
            "menu": menu_for(set(officer.roles)) if officer else [],
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def fragment(request: Request) -> bool:
    """An htmx request for part of a page (the table, the form): answer without the frame."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"
