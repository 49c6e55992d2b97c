"""The admin blueprint and what every admin view shares: the tracker, the user, times asked about."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.admin.forms import FormErrors, end_of_day, parse_day
from app.admin.security import check_csrf, csrf_token, current_user, load_user
from app.logs import current_request_id
from app.runtime import runtime
from app.service import DealTracker, NotFound
from app.store.tokens import role_at_least

admin = Blueprint("admin", __name__, url_prefix="/admin")


@admin.before_request
def _guard() -> None:
    """Know who is asking, and refuse forged form posts before any view runs."""
    load_user()
    check_csrf()


@admin.context_processor
def _template_context() -> dict[str, Any]:
    user = current_user()
    return {
        "csrf_token": csrf_token,
        "user": user,
        "can": lambda role: user is not None and role_at_least(user.role, role),
    }


@admin.errorhandler(HTTPException)
def _error_page(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    return render_template("admin/error.html", error=error), code


def tracker() -> DealTracker:
    """Return the application service on this app's store."""
    found = runtime()
    return DealTracker(found.store, found.clock)


def actor() -> dict[str, str]:
    """Return the metadata that says who entered an event, and through what."""
    metadata = {"actor": g.get("actor") or "unknown", "client": "admin"}
    request_id = current_request_id()
    if request_id:
        metadata["request_id"] = request_id
    return metadata


@dataclass(frozen=True, slots=True)
class Moment:
    """The as_of and known_at a page is shown at, as typed and as read."""

    as_of_text: str
    known_at_text: str
    as_of: datetime | None
    known_at: datetime | None

    @property
    def now(self) -> bool:
        """Tell whether the page shows the present state."""
        return self.as_of is None and self.known_at is None


def moment(errors: FormErrors) -> Moment:
    """Read ?as_of= and ?known_at= dates, each meaning the end of that day (UTC)."""
    read: dict[str, datetime | None] = {}
    for name in ("as_of", "known_at"):
        try:
            day = parse_day(request.args.get(name, ""))
        except ValueError as error:
            errors.add(name, str(error))
            day = None
        read[name] = None if day is None else end_of_day(day)
    return Moment(
        request.args.get("as_of", ""),
        request.args.get("known_at", ""),
        read["as_of"],
        read["known_at"],
    )


Read = TypeVar("Read")


def read_at(
    read: Callable[[datetime | None, datetime | None], Read], at: Moment, errors: FormErrors
) -> tuple[Read, Moment]:
    """Read a state at the moment asked; if it was not known yet then, say so and show it now."""
    try:
        return read(at.as_of, at.known_at), at
    except NotFound as missing:
        if at.known_at is None:
            abort(404, str(missing))
        errors.add("known_at", f"{missing}; shown as known now instead")
        now = Moment(at.as_of_text, at.known_at_text, at.as_of, None)
        return read(now.as_of, None), now


def page_after() -> str | None:
    """Return the cursor of the next page of a list, if asked for."""
    return request.args.get("after") or None


@admin.after_request
def _headers(response: Response) -> Response:
    """Keep admin pages out of caches and frames, and scripts to our own files."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; form-action 'self';"
        " frame-ancestors 'none'",
    )
    return response
