"""Sessions, roles and CSRF protection for the admin pages."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for

from app.admin.accounts import User, get_user
from app.runtime import runtime
from app.store.tokens import role_at_least

CSRF_FIELD = "csrf_token"
View = TypeVar("View", bound=Callable[..., Any])


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a state-changing request without this session's token or from another site."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(403, "This form was sent from another site.")
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not expected:
        abort(400, "Your session has expired. Go back, reload the page and try again.")
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, "The form's security token did not match. Reload the page and try again.")


def sign_in(user: User) -> None:
    """Start a fresh session for a user."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    csrf_token()


def sign_out() -> None:
    """End the session."""
    session.clear()


def load_user() -> None:
    """Put the signed-in, still active user (or None) on `g.user`."""
    user_id = session.get("user_id")
    user = get_user(runtime().engine, user_id) if isinstance(user_id, int) else None
    if user is not None and not user.active:
        session.clear()
        user = None
    g.user = user
    if user is not None:
        g.actor = f"user:{user.username}"  # the request log names who did it


def current_user() -> User | None:
    """Return the signed-in user, or None."""
    user: User | None = g.get("user")
    return user


def requires(role: str) -> Callable[[View], View]:
    """Let only signed-in users with at least `role` use a view."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            if not role_at_least(user.role, role):
                abort(403, f"This needs the {role} role; you are signed in as a {user.role}.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def safe_next(target: str | None) -> str:
    """Return a same-site path to go to after signing in, or the dashboard."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.dashboard")
