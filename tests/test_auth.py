"""Accounts: the admin command, logging in and out, rate limits, invitations, passwords."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from argon2 import PasswordHasher
from flask import url_for
from sqlalchemy import select

from app.auth.passwords import verify_password
from app.auth.sessions import session_user
from app.extensions import db
from app.models import Invitation, PasswordReset, Role, User
from app.models.base import utcnow
from tests.conftest import csrf_token, flashed, follow, log_in, page_text, submit
from tests.factories import make_user
from tests.mailbox import sent_mail

PASSWORD = "correct horse battery staple"  # the factories' password
PUBLIC_URL = "https://konvert.example"
GENERIC_REFUSAL = "Wrong email or password."


@pytest.fixture(autouse=True)
def _public_url(app):
    """Links in emails are built on the configured public address."""
    app.config["PUBLIC_URL"] = PUBLIC_URL


@pytest.fixture
def home(app) -> str:
    """The organizers' start page, where a login without `next` lands."""
    with app.test_request_context():
        return url_for("manage.index")


def _login(client, email, password, next_url=None, **kwargs):
    url = "/login" if next_url is None else "/login?" + urlencode({"next": next_url})
    return submit(client, url, {"email": email, "password": password}, **kwargs)


def _logged_in(client) -> bool:
    """True when the account pages open instead of sending to the login page."""
    response = client.get("/account/password")
    if response.status_code == 200:
        assert "Change your password" in page_text(response)
        return True
    assert response.headers["Location"].startswith("/login?next=")
    return False


def _outbox(kind):
    """The messages of one kind as they were sent (once sent, the outbox keeps no content)."""
    return sent_mail(kind)


def _link_in(message, path):
    match = re.search(rf"{PUBLIC_URL}{path}/([A-Za-z0-9_-]+)", message.body_text)
    assert match, message.body_text
    assert match.group(0) in message.body_html
    return f"{path}/{match.group(1)}"


def _user(email):
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.email == email)).one_or_none()


# --- flask users ---------------------------------------------------------------------------------


def test_create_admin_from_a_password_file(runner, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("a long enough passphrase\n")
    result = runner.invoke(
        args=[
            "users",
            "create-admin",
            "Chief@Example.org",
            "--password-file",
            str(secret),
            "--name",
            "Chief",
        ]
    )
    assert result.exit_code == 0, result.output
    user = _user("chief@example.org")
    assert user.role is Role.ADMIN and user.active and user.name == "Chief"
    assert verify_password(user.password_hash, "a long enough passphrase")
    assert "a long enough passphrase" not in user.password_hash


def test_create_admin_asks_for_the_password_twice(runner):
    result = runner.invoke(
        args=["users", "create-admin", "chief@example.org"],
        input="a long enough passphrase\na long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough passphrase" not in result.output  # hidden while typed
    assert verify_password(_user("chief@example.org").password_hash, "a long enough passphrase")


def test_create_admin_refuses_two_different_passwords(runner):
    result = runner.invoke(
        args=["users", "create-admin", "chief@example.org"],
        input="a long enough passphrase\nanother long passphrase\n",
    )
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert _user("chief@example.org") is None


def test_create_admin_refuses_a_short_password(runner, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("short\n")
    result = runner.invoke(
        args=["users", "create-admin", "chief@example.org", "--password-file", str(secret)]
    )
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert _user("chief@example.org") is None


def test_create_admin_refuses_an_existing_address(runner, tmp_path, organizer):
    secret = tmp_path / "password"
    secret.write_text("a long enough passphrase")
    result = runner.invoke(
        args=["users", "create-admin", " ORGANIZER@example.org", "--password-file", str(secret)]
    )
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert _user("organizer@example.org").role is Role.ORGANIZER


def test_users_list(runner, organizer, admin):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "organizer@example.org\torganizer\tactive" in result.output
    assert "admin@example.org\tadmin\tactive" in result.output


# --- logging in and out --------------------------------------------------------------------------


def test_login_page_has_labelled_fields_for_password_managers(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="email">' in html and '<label for="password">' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html


def test_login_with_the_right_password(client, organizer, home):
    response = _login(client, "  Organizer@Example.org ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert _logged_in(client)
    with client.session_transaction() as session:
        assert "_remember" not in session
    assert "remember_token" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    ("email", "password"),
    [("organizer@example.org", "wrong password here"), ("nobody@example.org", PASSWORD)],
)
def test_a_refused_login_does_not_say_what_was_wrong(client, organizer, email, password):
    response = _login(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert GENERIC_REFUSAL in html
    assert f'value="{email}"' in html  # what was typed is kept
    assert not _logged_in(client)


def test_a_deactivated_account_cannot_log_in(client):
    make_user(email="gone@example.org", active=False)
    response = _login(client, "gone@example.org", PASSWORD)
    assert response.status_code == 422
    assert GENERIC_REFUSAL in response.get_data(as_text=True)
    assert not _logged_in(client)


@pytest.mark.parametrize("target", ["/prisoners?q=a", "/account/password"])
def test_login_follows_next_on_this_site(client, organizer, target):
    response = _login(client, "organizer@example.org", PASSWORD, next_url=target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"]
)
def test_login_ignores_next_to_another_site(client, organizer, home, target):
    response = _login(client, "organizer@example.org", PASSWORD, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert "evil" not in response.headers["Location"]


def test_login_required_pages_send_back_after_login(client, organizer):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert (
        _login(client, "organizer@example.org", PASSWORD, next_url="/account/password").headers[
            "Location"
        ]
        == "/account/password"
    )


def test_logout_needs_the_csrf_token(client, organizer):
    _login(client, "organizer@example.org", PASSWORD)
    refused = client.post("/logout")
    assert refused.status_code == 400
    assert "This form has expired" in page_text(refused)
    assert _logged_in(client)
    response = submit(client, "/account/password", action="/logout")
    assert flashed(follow(client, response)) == ["You are logged out."]
    assert not _logged_in(client)


def test_logout_everywhere_ends_other_sessions(app, client, organizer):
    other = app.test_client()
    _login(client, "organizer@example.org", PASSWORD)
    _login(other, "organizer@example.org", PASSWORD)
    submit(client, "/account/password", {"everywhere": "1"}, action="/logout")
    assert not _logged_in(client)
    assert not _logged_in(other)


def test_a_session_survives_a_change_of_address_and_browser(client, organizer):
    """No IP or browser binding: people on Tor or a VPN change address all the time."""
    _login(client, "organizer@example.org", PASSWORD, environ_base={"REMOTE_ADDR": "203.0.113.5"})
    response = client.get(
        "/account/password",
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
        headers={"User-Agent": "Another browser"},
    )
    assert response.status_code == 200
    assert "Logged in as organizer@example.org." in page_text(response)


def test_nothing_about_the_address_is_kept(app, client, organizer, caplog):
    caplog.set_level(logging.DEBUG)
    for _attempt in range(2):
        _login(client, "organizer@example.org", "wrong password here")
    _login(client, "nobody@example.org", PASSWORD)
    _login(client, "organizer@example.org", PASSWORD)
    _forgot(client, "organizer@example.org")
    with client.session_transaction() as session:
        # Flask-Login's hash of the IP address and user agent is not kept in the cookie either.
        assert "_id" not in session
        key = session["_user_id"]
    # The cookie names a server-side session (a random key), not the account.
    assert str(organizer.id) not in key.split(":")
    assert session_user(key).id == organizer.id
    db.session.commit()
    db.engine.dispose()
    files = sorted(Path(app.instance_path).glob("konvert.db*"))
    assert files
    data = b"".join(path.read_bytes() for path in files)
    assert b"127.0.0.1" not in data
    assert "127.0.0.1" not in caplog.text


# --- rate limits ---------------------------------------------------------------------------------


def test_login_is_rate_limited_per_account(client, organizer, admin, caplog, monkeypatch):
    # Alembic's logging set-up in the migration fixture disables existing loggers: re-enable
    # the limiter's, which names the key of a limit that is hit.
    monkeypatch.setattr(logging.getLogger("flask-limiter"), "disabled", False)
    caplog.set_level(logging.DEBUG)
    for _attempt in range(5):
        refused = _login(client, "organizer@example.org", "wrong password here")
        assert GENERIC_REFUSAL in page_text(refused)
    response = _login(client, "Organizer@example.org", PASSWORD)  # even the right one now
    assert response.status_code == 429
    assert "Too many wrong passwords for this account." in page_text(response)
    assert 'value="Organizer@example.org"' in response.get_data(as_text=True)
    assert not _logged_in(client)
    # Another account, from the same address, still logs in.
    assert _login(client, "admin@example.org", PASSWORD).status_code == 302
    assert _logged_in(client)
    assert "127.0.0.1" not in caplog.text
    assert "organizer@example.org" not in caplog.text


def test_an_unknown_address_costs_a_password_check_too(client, monkeypatch):
    """Both refusals take about as long: a hash is verified even when nobody has the address."""
    import app.auth.services as services

    checked = []
    real = services.verify_password
    monkeypatch.setattr(
        services,
        "verify_password",
        lambda hashed, given: checked.append(given) or real(hashed, given),
    )
    refused = _login(client, "nobody@example.org", "some password here")
    assert GENERIC_REFUSAL in page_text(refused)
    assert checked == ["some password here"]


def test_successful_logins_do_not_count_against_the_account(client, organizer):
    for _attempt in range(7):
        _login(client, "organizer@example.org", PASSWORD)
        assert _logged_in(client)
        submit(client, "/account/password", action="/logout")
        assert not _logged_in(client)


def test_login_is_rate_limited_for_the_whole_site(app, client, organizer):
    app.config["RATELIMIT_LOGIN_GLOBAL"] = "3 per minute"
    for number in range(3):
        refused = _login(client, f"someone{number}@example.org", PASSWORD)
        assert GENERIC_REFUSAL in page_text(refused)
    limited = _login(client, "organizer@example.org", PASSWORD)
    assert limited.status_code == 429
    assert "Too many requests. Please wait a minute and try again." in page_text(limited)
    assert not _logged_in(client)


def test_password_reset_requests_are_rate_limited_per_address(client, organizer):
    for _attempt in range(5):
        response = _forgot(client, "organizer@example.org")
        assert "Check your email" in page_text(response)
    response = _forgot(client, "organizer@example.org")
    assert response.status_code == 429
    assert "Too many requests" in page_text(response)
    assert len(_outbox("password_reset")) == 5


# --- invitations ---------------------------------------------------------------------------------


def _invite(client, email, role="organizer"):
    return submit(
        client, "/admin/users", {"email": email, "role": role}, action="/admin/invitations"
    )


def _forgot(client, email):
    return submit(client, "/password/forgot", {"email": email})


def test_an_admin_invites_an_organizer_who_then_logs_in(app, client, admin):
    log_in(client, admin)
    response = _invite(client, " New.Person@Example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    assert flashed(follow(client, response)) == ["Invitation sent to new.person@example.org."]

    (message,) = _outbox("invitation")
    assert message.recipient == "new.person@example.org"
    assert message.subject == "Your invitation to Konvert"
    assert "ignore" in message.body_text
    assert "7 days" in message.body_text
    link = _link_in(message, "/invitations")
    invitation = db.session.scalars(select(Invitation)).one()
    assert link.rsplit("/", 1)[1] not in invitation.token_hash  # only a hash is stored
    assert "new.person@example.org" in client.get("/admin/users").get_data(as_text=True)

    newcomer = app.test_client()
    page = newcomer.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "new.person@example.org" in html and 'autocomplete="new-password"' in html
    response = submit(
        newcomer,
        page,
        {
            "name": "Nadia",
            "password": "a brand new passphrase",
            "password_again": "a brand new passphrase",
        },
        action=link,
    )
    assert flashed(follow(newcomer, response)) == ["Welcome to Konvert. Your account is ready."]
    user = _user("new.person@example.org")
    assert user.role is Role.ORGANIZER and user.name == "Nadia"
    assert _logged_in(newcomer)

    fresh = app.test_client()
    _login(fresh, "new.person@example.org", "a brand new passphrase")
    assert _logged_in(fresh)


def test_an_invitation_refuses_a_short_or_mistyped_password(app, client, admin):
    log_in(client, admin)
    _invite(client, "new@example.org")
    link = _link_in(_outbox("invitation")[0], "/invitations")
    newcomer = app.test_client()
    for password, again, error in [
        ("short", "short", "at least 12 characters"),
        ("a brand new passphrase", "a brand new passphrasf", "not the same"),
    ]:
        response = submit(
            newcomer, link, {"name": "Nadia", "password": password, "password_again": again}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert error in html
        assert 'value="Nadia"' in html
    assert _user("new@example.org") is None


def test_an_invitation_works_only_once(app, client, admin):
    log_in(client, admin)
    _invite(client, "new@example.org")
    link = _link_in(_outbox("invitation")[0], "/invitations")
    first = app.test_client()
    data = {
        "name": "N",
        "password": "a brand new passphrase",
        "password_again": "a brand new passphrase",
    }
    submit(first, link, data)
    assert _user("new@example.org").name == "N"
    second = app.test_client()
    response = second.get(link)
    assert response.status_code == 410
    assert "already been used" in response.get_data(as_text=True)
    refused = submit(second, "/login", {**data, "name": "Someone else"}, action=link)
    assert refused.status_code == 410
    assert _user("new@example.org").name == "N"


def test_an_expired_invitation_is_refused(app, client, admin):
    log_in(client, admin)
    _invite(client, "new@example.org")
    link = _link_in(_outbox("invitation")[0], "/invitations")
    invitation = db.session.scalars(select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    visitor = app.test_client()
    response = visitor.get(link)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    data = {"name": "N", "password": "x" * 20, "password_again": "x" * 20}
    response = submit(visitor, "/login", data, action=link)
    assert response.status_code == 410
    assert "This link has expired." in page_text(response)
    assert _user("new@example.org") is None


def test_an_unknown_invitation_link_is_not_found(client):
    for link in ("/invitations/" + "A" * 43, "/invitations/nonsense"):
        response = client.get(link)
        assert response.status_code == 404
        assert "This link is not valid. Check that it was copied whole." in page_text(response)


def test_inviting_again_replaces_the_earlier_link(client, admin):
    log_in(client, admin)
    _invite(client, "new@example.org")
    _invite(client, "new@example.org")
    first, second = _outbox("invitation")
    earlier = client.get(_link_in(first, "/invitations"))
    assert earlier.status_code == 410
    assert "This link has expired." in page_text(earlier)
    later = client.get(_link_in(second, "/invitations"))
    assert later.status_code == 200
    assert "Create your account" in page_text(later)
    assert 'value="new@example.org"' in later.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "error"),
    [("organizer@example.org", "already exists"), ("not an address", "not an email address")],
)
def test_an_invitation_to_a_bad_address_is_refused(client, admin, organizer, email, error):
    log_in(client, admin)
    response = _invite(client, email)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error in html
    assert f'value="{email}"' in html
    assert _outbox("invitation") == []


def test_an_admin_can_invite_an_admin(client, admin):
    log_in(client, admin)
    _invite(client, "second@example.org", role="admin")
    assert db.session.scalars(select(Invitation)).one().role is Role.ADMIN


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/admin/users"),
        ("post", "/admin/invitations"),
        ("post", "/admin/users/1/deactivate"),
        ("post", "/admin/users/1/activate"),
    ],
)
def test_organizers_cannot_manage_accounts(client, admin, organizer, method, url):
    # One valid CSRF token for every request, from a page anyone may open: the refusals
    # must come from the login and role checks, not from the form protection.
    token = csrf_token(client.get("/login").get_data(as_text=True))
    anonymous = getattr(client, method)(url, data={"csrf_token": token})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    log_in(client, organizer)
    data = {"csrf_token": token, "email": "x@example.org", "role": "organizer"}
    refused = getattr(client, method)(url, data=data)
    assert refused.status_code == 403
    assert "Your account may not do this." in refused.get_data(as_text=True)
    assert _outbox("invitation") == []
    assert _user("admin@example.org").active


# --- account list, deactivation ------------------------------------------------------------------


def test_the_admin_sees_every_account(client, admin, organizer):
    log_in(client, admin)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "organizer@example.org" in html and "admin@example.org" in html
    assert "Organizer" in html and "Admin" in html


def test_deactivating_an_account_ends_its_sessions(app, client, admin, organizer):
    theirs = app.test_client()
    _login(theirs, "organizer@example.org", PASSWORD)
    log_in(client, admin)
    response = submit(client, "/admin/users", action=f"/admin/users/{organizer.id}/deactivate")
    assert flashed(follow(client, response)) == [
        "organizer@example.org is deactivated and logged out."
    ]
    assert not _user("organizer@example.org").active
    assert not _logged_in(theirs)
    assert GENERIC_REFUSAL in page_text(_login(theirs, "organizer@example.org", PASSWORD))
    assert not _logged_in(theirs)

    response = submit(client, "/admin/users", action=f"/admin/users/{organizer.id}/activate")
    assert flashed(follow(client, response)) == ["organizer@example.org can log in again."]
    _login(theirs, "organizer@example.org", PASSWORD)
    assert _logged_in(theirs)


def test_an_admin_cannot_deactivate_themselves(client, admin):
    log_in(client, admin)
    response = submit(client, "/admin/users", action=f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 422
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert _user("admin@example.org").active


# --- passwords -----------------------------------------------------------------------------------


def test_forgot_password_answers_the_same_for_unknown_addresses(client, organizer):
    unknown = _forgot(client, "nobody@example.org")
    known = _forgot(client, "organizer@example.org")
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')
    assert strip.sub("", unknown.get_data(as_text=True)) == strip.sub(
        "", known.get_data(as_text=True)
    )
    (message,) = _outbox("password_reset")
    assert message.recipient == "organizer@example.org"
    assert message.subject == "Reset your Konvert password"


def test_password_reset_works_once_and_logs_out_other_sessions(app, client, organizer):
    elsewhere = app.test_client()
    _login(elsewhere, "organizer@example.org", PASSWORD)
    assert _logged_in(elsewhere)

    _forgot(client, "organizer@example.org")
    (message,) = _outbox("password_reset")
    link = _link_in(message, "/password/reset")
    assert "2 hours" in message.body_text and "ignore" in message.body_text
    assert db.session.scalars(select(PasswordReset)).one().token_hash != link.rsplit("/", 1)[1]

    new = "a fresh new passphrase"
    response = submit(client, link, {"password": new, "password_again": new})
    assert flashed(follow(client, response)) == [
        "Your new password is set. Other browsers were logged out."
    ]
    assert _logged_in(client)
    assert not _logged_in(elsewhere)
    assert verify_password(_user("organizer@example.org").password_hash, new)

    again = app.test_client()
    response = again.get(link)
    assert response.status_code == 410
    assert "This link has already been used." in page_text(response)
    assert GENERIC_REFUSAL in page_text(_login(again, "organizer@example.org", PASSWORD))
    assert not _logged_in(again)
    _login(again, "organizer@example.org", new)
    assert _logged_in(again)


def test_a_forged_host_header_does_not_reach_the_link(app, client, organizer):
    # The session cookie is not sent to another host, so CSRF cannot be satisfied here.
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post(
        "/password/forgot",
        data={"email": "organizer@example.org"},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 200
    (message,) = _outbox("password_reset")
    assert "evil.example" not in message.body_text + message.body_html
    assert f"{PUBLIC_URL}/password/reset/" in message.body_text


def test_an_expired_reset_link_is_refused(client, organizer):
    _forgot(client, "organizer@example.org")
    link = _link_in(_outbox("password_reset")[0], "/password/reset")
    reset = db.session.scalars(select(PasswordReset)).one()
    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_no_reset_for_a_deactivated_account(client):
    make_user(email="gone@example.org", active=False)
    assert "Check your email" in page_text(_forgot(client, "gone@example.org"))
    assert _outbox("password_reset") == []


def test_change_password(app, client, organizer):
    elsewhere = app.test_client()
    _login(elsewhere, "organizer@example.org", PASSWORD)
    _login(client, "organizer@example.org", PASSWORD)
    page = client.get("/account/password").get_data(as_text=True)
    assert 'autocomplete="current-password"' in page and 'autocomplete="new-password"' in page

    new = "another good passphrase"
    wrong = submit(
        client,
        "/account/password",
        {"current_password": "not my password", "password": new, "password_again": new},
    )
    assert wrong.status_code == 422
    assert "not your current password" in wrong.get_data(as_text=True)
    assert verify_password(_user("organizer@example.org").password_hash, PASSWORD)

    response = submit(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": new, "password_again": new},
    )
    assert flashed(follow(client, response)) == [
        "Your password is changed. Other browsers were logged out."
    ]
    assert _logged_in(client)  # this session goes on
    assert not _logged_in(elsewhere)  # the others end
    assert verify_password(_user("organizer@example.org").password_hash, new)


def test_a_weak_old_hash_is_upgraded_at_login(client):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user = make_user(email="old@example.org")
    user.password_hash = weak
    db.session.commit()
    _login(client, "old@example.org", PASSWORD)
    assert _logged_in(client)
    upgraded = _user("old@example.org").password_hash

    assert upgraded != weak and verify_password(upgraded, PASSWORD)
