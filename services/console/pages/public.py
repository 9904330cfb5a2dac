"""The public pages (no sign-in): the disclosure of administrative actions, and the statistics charts."""

from fastapi import APIRouter

router = APIRouter()
