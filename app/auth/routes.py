"""Login (by password or by an emailed link), logout, invitations, passwords and the admin's
account list: thin views over app.auth.services, sessions and login_links. The account page
(with API tokens) is in account_routes, the organisation's settings in admin_routes."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.wrappers import Response as FlaskResponse
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

# The account page and the organisation's settings keep their views in modules of their own:
# importing them registers those views with the blueprint.
import app.auth.account_routes
import app.auth.admin_routes  # noqa: F401
from app.auth import bp, login_links, services, sessions
from app.auth.forms import (
    ROLE_LABELS,
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    LoginLinkForm,
    NewPasswordForm,
    UseLoginLinkForm,
)
from app.auth.navigation import home_for
from app.auth.passwords import MIN_PASSWORD_LENGTH
from app.auth.permissions import logged_in_user, login_required
from app.domain import DomainError
from app.extensions import limiter
from app.i18n import current_language
from app.mail.services import external_url
from app.models import Role, User
from app.refusals import show_on_form
from app.security import public_write_limit, safe_next_url

# --- rate limits -------------------------------------------------------------------------------
# Login attempts are counted per account (a keyed hash of the submitted address) and for the
# whole site, never per IP address: people behind Tor or a VPN share addresses, and addresses
# must not be kept.


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _global_login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN_GLOBAL"])


def _account_key() -> str:
    return services.rate_limit_key(request.form.get("email"))


def _user_key() -> str:
    # Checked before the view runs, so possibly for a visitor who is not logged in.
    return f"user:{getattr(current_user, 'id', 'anonymous')}"


def _site_key() -> str:
    return "site"


def _refused(response: Response) -> bool:
    """Count only refused attempts against an account: logging in normally costs nothing."""
    return response.status_code == 422


def _account_locked(_limit: RequestLimit) -> FlaskResponse:
    """The login page again when an account's password login is locked, pointing to the way
    in that nobody else can lock: a one-time link sent to the account's address."""
    form = LoginForm()
    form.form_errors.append(
        _(
            "Too many wrong passwords for this account. Log in with a link sent to your "
            "email instead, or try the password again later."
        )
    )
    page = render_template("auth/login.html", form=form, next=_requested_next(), locked=True)
    return make_response(page, 429)


# --- helpers -----------------------------------------------------------------------------------


def _requested_next() -> str | None:
    """The page on this site the login was asked to lead to, if any (`next`)."""
    return safe_next_url(request.args.get("next"), "") or None


def _after_login(user: User) -> Response:
    """Where a login leads: the requested page, or the account's own start page."""
    return redirect(safe_next_url(_requested_next(), home_for(user)))


def _actor() -> User:
    """The logged-in account itself, not Flask-Login's proxy (models and sessions need it)."""
    return logged_in_user()


def _start_session(user: User) -> None:
    """Log this browser in as ``user`` (a browser-session cookie, no "remember me")."""
    key = sessions.open_session(user)
    login_user(user, remember=False)
    user.language = current_language()  # the digests it gets come in it
    # The cookie names the server-side session, not the account: logging out deletes it.
    session["_user_id"] = key
    # Flask-Login puts a hash of the IP address and user agent into the session cookie even
    # though session protection is off; drop it, it is derived from what we must not keep.
    session.pop("_id", None)
    # A new CSRF token for the logged-in session: one seen or planted before the login (on a
    # shared computer, say) must not work for the organizer's forms.
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)


def _link_problem(error: services.LinkError) -> tuple[str, int]:
    """A clear page for a link that cannot be used."""
    messages = {
        "unknown": (404, _("This link is not valid. Check that it was copied whole.")),
        "used": (410, _("This link has already been used. Each link works only once.")),
        "expired": (410, _("This link has expired.")),
        "taken": (409, _("An account with this address already exists. Log in instead.")),
    }
    code, message = messages[error.reason]
    return render_template(
        "auth/message.html", title=_("Link not usable"), message=message, show_forgot=True
    ), code


# --- logging in and out ------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_global_login_limit, key_func=_site_key, methods=["POST"], scope="site")
@limiter.limit(
    _login_limit,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_refused,
    on_breach=_account_locked,
)
def login() -> Response | str | tuple[str, int]:
    """Email and password; on success go to `next` (a path on this site) or the account's
    start page (see `home_for`)."""
    if current_user.is_authenticated and request.method == "GET":
        return _after_login(_actor())
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            _start_session(user)
            return _after_login(user)
        form.form_errors.append(_("Wrong email or password."))
    page = render_template("auth/login.html", form=form, next=_requested_next())
    if request.method == "POST":
        return page, 422
    return page


@bp.post("/logout")
def logout() -> Response:
    """End this session (CSRF-protected like every form). With `everywhere`, end them all."""
    if current_user.is_authenticated and request.form.get("everywhere"):
        sessions.end_all_sessions(_actor())
    else:
        sessions.end_session(session.get("_user_id"))
    logout_user()
    flash(_("You are logged out."), "success")
    return redirect(url_for("auth.login"))


# --- one-time login links ----------------------------------------------------------------------
# Requests count per requesting address only, never per account or for the whole site: see
# app/auth/login_links.py for why this cannot lock the owner out of the email channel.


@bp.route("/login/link", methods=["GET", "POST"])
@limiter.limit(public_write_limit, methods=["POST"])
def request_login_link() -> str | tuple[str, int]:
    """Ask for a login link. The answer is the same whether or not the address has an account."""
    form = LoginLinkForm()
    if form.validate_on_submit():
        login_links.request_login_link(
            form.email.data or "",
            lambda token: external_url("auth.login_by_link", token=token),
            current_language(),
        )
        minutes = int(current_app.config["LOGIN_LINK_MINUTES"])
        return render_template(
            "auth/message.html",
            title=_("Check your email"),
            message=_(
                "If an account exists for that address, we have sent it a link to log in. "
                "The link works once, within %(minutes)d minutes. If nothing arrives, check "
                "the spam folder or ask an admin.",
                minutes=minutes,
            ),
        )
    if request.method == "POST":
        return render_template("auth/login_link.html", form=form), 422
    return render_template("auth/login_link.html", form=form)


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def login_by_link(token: str) -> Response | str | tuple[str, int]:
    """Log in through an emailed link, with a button: opening the link alone (as mail scanners
    do) does not use it up."""
    try:
        link = login_links.find_login_link(token)
    except services.LinkError as error:
        return _link_problem(error)
    form = UseLoginLinkForm()
    if form.validate_on_submit():
        try:
            user = login_links.use_login_link(token)
        except services.LinkError as error:
            return _link_problem(error)
        _start_session(user)
        return redirect(home_for(user))
    page = render_template("auth/login_by_link.html", form=form, email=link.user.email)
    if request.method == "POST":
        return page, 422
    return page


# --- invitations -------------------------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Response | str | tuple[str, int]:
    """Open the invited account: choose a name and a password."""
    try:
        invitation = services.find_invitation(token)
    except services.LinkError as error:
        return _link_problem(error)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                token, form.name.data or "", form.password.data or ""
            )
        except DomainError as error:
            show_on_form(form, error)
        except services.LinkError as error:
            return _link_problem(error)
        else:
            _start_session(user)
            flash(_("Welcome to Konvert. Your account is ready."), "success")
            return redirect(home_for(user))
    page = render_template(
        "auth/invitation.html",
        form=form,
        invitation=invitation,
        token=token,
        min_length=MIN_PASSWORD_LENGTH,
    )
    if request.method == "POST":
        return page, 422
    return page


# --- passwords ---------------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_global_login_limit, key_func=_site_key, methods=["POST"], scope="site")
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"])
def forgot_password() -> str | tuple[str, int]:
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data or "",
            lambda token: external_url("auth.reset_password", token=token),
            current_language(),
        )
        hours = int(current_app.config["PASSWORD_RESET_HOURS"])
        return render_template(
            "auth/message.html",
            title=_("Check your email"),
            message=_(
                "If an account exists for that address, we have sent it a link to set a new "
                "password. The link works once, within %(hours)d hours. If nothing arrives, "
                "check the spam folder or ask an admin.",
                hours=hours,
            ),
        )
    if request.method == "POST":
        return render_template("auth/forgot.html", form=form), 422
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str | tuple[str, int]:
    """Set a new password through an emailed link; every other session of the account ends."""
    try:
        reset = services.find_reset(token)
    except services.LinkError as error:
        return _link_problem(error)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data or "")
        except DomainError as error:
            show_on_form(form, error)
        except services.LinkError as error:
            return _link_problem(error)
        else:
            _start_session(user)
            flash(_("Your new password is set. Other browsers were logged out."), "success")
            return redirect(home_for(user))
    page = render_template(
        "auth/reset.html",
        form=form,
        token=token,
        email=reset.user.email,
        min_length=MIN_PASSWORD_LENGTH,
    )
    if request.method == "POST":
        return page, 422
    return page


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, key_func=_user_key, methods=["POST"], deduct_when=_refused)
def change_password() -> Response | str | tuple[str, int]:
    """Change one's own password; other sessions end, this one goes on."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                _actor(), form.current_password.data or "", form.password.data or ""
            )
        except DomainError as error:
            show_on_form(form, error)
        else:
            _start_session(_actor())  # every session ended: this browser gets a new one
            flash(_("Your password is changed. Other browsers were logged out."), "success")
            return redirect(url_for("auth.change_password"))
    page = render_template("auth/change_password.html", form=form, min_length=MIN_PASSWORD_LENGTH)
    if request.method == "POST":
        return page, 422
    return page


# --- admin: accounts ---------------------------------------------------------------------------


def _users_page(form: InviteForm | None = None, error: str | None = None) -> str:
    return render_template(
        "auth/users.html",
        users=services.list_users(_actor()),
        invitations=services.open_invitations(_actor()),
        form=form or InviteForm(formdata=None),
        error=error,
        role_labels=ROLE_LABELS,
        invitation_days=current_app.config["INVITATION_DAYS"],
    )


@bp.get("/admin/users")
@login_required
def users() -> str:
    """Every account, open invitations, and the form to invite someone."""
    return _users_page()


@bp.post("/admin/invitations")
@login_required
def invite() -> Response | tuple[str, int]:
    """Invite someone by email: a single-use link that expires."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite(
                _actor(),
                form.email.data or "",
                Role(form.role.data),
                lambda token: external_url("auth.accept_invitation", token=token),
                current_language(),
            )
        except DomainError as error:
            show_on_form(form, error)
        else:
            flash(
                _(
                    "Invitation sent to %(email)s.",
                    email=services.normalise_email(form.email.data),
                ),
                "success",
            )
            return redirect(url_for("auth.users"))
    return _users_page(form), 422


def _set_active(user_id: int, active: bool) -> Response | tuple[str, int]:
    try:
        user = services.set_active(_actor(), user_id, active)
    except DomainError as error:
        return _users_page(error=error.message), 422
    if active:
        flash(_("%(email)s can log in again.", email=user.email), "success")
    else:
        flash(_("%(email)s is deactivated and logged out.", email=user.email), "success")
    return redirect(url_for("auth.users"))


@bp.post("/admin/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int) -> Response | tuple[str, int]:
    """Stop an account from logging in; its sessions end at once."""
    return _set_active(user_id, False)


@bp.post("/admin/users/<int:user_id>/activate")
@login_required
def activate(user_id: int) -> Response | tuple[str, int]:
    """Let a deactivated account log in again."""
    return _set_active(user_id, True)
