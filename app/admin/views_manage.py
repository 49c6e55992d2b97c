"""What admins manage: the people who sign in, and the API tokens of newsroom tools."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.admin import accounts
from app.admin.blueprint import admin
from app.admin.forms import FormErrors
from app.admin.security import current_user, requires
from app.runtime import runtime
from app.store.tokens import ROLES, create_token


@admin.route("/users", methods=["GET", "POST"])
@requires("admin")
def users() -> ResponseReturnValue:
    """List users and create one."""
    errors = FormErrors()
    engine = runtime().engine
    if request.method == "POST":
        form = request.form
        username, role = form.get("username", ""), form.get("role", "")
        password = form.get("password", "")
        for field, message in accounts.check_new_user(username, role, password).items():
            errors.add(field, message)
        if not errors:
            try:
                created = accounts.create_user(
                    engine, username=username, role=role, password=password
                )
            except accounts.AccountError as error:
                errors.add("username", str(error))
            else:
                flash(f"Created {created.role} {created.username}.")
                return redirect(url_for("admin.users"))
    return render_template(
        "admin/users.html",
        users=accounts.list_users(engine),
        roles=ROLES,
        errors=errors,
        values=request.form,
    ), (422 if errors else 200)


@admin.post("/users/<int:user_id>/disable")
@requires("admin")
def disable_user(user_id: int) -> ResponseReturnValue:
    """Disable a user, or enable them again."""
    me = current_user()
    enable = request.form.get("enable") == "1"
    if me is not None and me.id == user_id and not enable:
        flash("You cannot disable yourself.")
    else:
        accounts.set_disabled(runtime().engine, user_id, not enable)
        flash("User enabled." if enable else "User disabled; their sessions have ended.")
    return redirect(url_for("admin.users"))


@admin.route("/tokens", methods=["GET", "POST"])
@requires("admin")
def tokens() -> ResponseReturnValue:
    """List API tokens and create one, shown once."""
    errors = FormErrors()
    created = None
    engine = runtime().engine
    if request.method == "POST":
        name, role = request.form.get("name", "").strip(), request.form.get("role", "")
        if not name:
            errors.add("name", "required: say which tool or person the token is for")
        if role not in ROLES:
            errors.add("role", f"must be one of: {', '.join(ROLES)}")
        if not errors:
            created = create_token(engine, role=role, name=name)
    return render_template(
        "admin/tokens.html",
        tokens=accounts.list_tokens(engine),
        roles=ROLES,
        errors=errors,
        created=created,
        values={} if created else request.form,
    ), (422 if errors else 200)


@admin.post("/tokens/<int:token_id>/revoke")
@requires("admin")
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke an API token."""
    accounts.revoke_token(runtime().engine, token_id)
    flash("Token revoked.")
    return redirect(url_for("admin.tokens"))
