"""Signing in and out, and the dashboard of the latest events."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.admin.accounts import authenticate
from app.admin.blueprint import admin
from app.admin.forms import FormErrors
from app.admin.security import current_user, requires, safe_next, sign_in, sign_out
from app.runtime import runtime

DASHBOARD_EVENTS = 30


@admin.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form, or sign in."""
    errors = FormErrors()
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        user = authenticate(runtime().engine, username, password) if username else None
        if user is not None:
            sign_in(user)
            return redirect(safe_next(request.form.get("next")))
        errors.add("password", "Wrong username or password, or the account is disabled.")
        if not username:
            errors["password"] = ["Enter your username and password."]
    elif current_user() is not None:
        return redirect(safe_next(request.args.get("next")))
    status = 401 if errors else 200
    return render_template(
        "admin/login.html", errors=errors, next=request.values.get("next", "")
    ), status


@admin.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    sign_out()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))


@admin.get("/")
@requires("reader")
def dashboard() -> ResponseReturnValue:
    """Show the latest events across the log."""
    store = runtime().store
    head = store.head_position()
    events = store.read_all(after=max(0, head - DASHBOARD_EVENTS), limit=DASHBOARD_EVENTS)
    return render_template("admin/dashboard.html", events=list(reversed(events)))
