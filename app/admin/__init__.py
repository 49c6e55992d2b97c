"""The admin pages where editors record what articles report, correct it, and read state and history."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

SESSION_LIFETIME = timedelta(hours=12)


def init_app(app: Flask) -> None:
    """Register the admin pages and set the session cookie up for them."""
    from app.admin import (  # noqa: F401 - importing the views attaches their routes
        views_auth,
        views_deals,
        views_events,
        views_manage,
        views_orgs,
        views_snapshots,
    )
    from app.admin.blueprint import admin
    from app.admin.display import init_filters
    from app.admin.security import csrf_token

    production = app.extensions["dealtracker"].settings.env == "production"
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,  # over HTTPS only, where it is served that way
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    init_filters(app)
    # A global, so imported form macros reach it without the page's context.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.register_blueprint(admin)
