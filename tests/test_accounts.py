"""Accounts of every role: `flask users create` and `create-token`, the account page with its
personal API tokens, where each role lands and what its navigation shows."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.auth.api_tokens import user_for_token
from app.auth.navigation import mailroom_url
from app.auth.passwords import verify_password
from app.extensions import db
from app.models import ApiToken, AuditEntry, Role, User
from tests.conftest import csrf_token, flashed, follow, log_in, page_text, submit
from tests.factories import make_user
from tests.mailbox import sent_mail

PASSWORD = "correct horse battery staple"  # the factories' password
TOKEN = re.compile(r"kvt_[A-Za-z0-9_-]{43}")


def account(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.email == email)).one_or_none()


def tokens_of(user_id: int) -> list[ApiToken]:
    db.session.expire_all()
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)))


def nav_links(response) -> list[str]:
    """The links of the account navigation, as "text → href"."""
    html = response.get_data(as_text=True)
    nav = re.search(r'<nav class="account"[^>]*>(.*?)</nav>', html, re.DOTALL)
    assert nav, "no account navigation"
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav.group(1))
    return [f"{text} → {href}" for href, text in links]


@pytest.fixture
def mailroom_home(app) -> str:
    """The mailroom's start page: /mailroom, or wherever the mailroom's own view serves it."""
    with app.test_request_context():
        return mailroom_url()


@pytest.fixture
def volunteer(app) -> User:
    return make_user(email="mailroom@example.org", role=Role.MAILROOM)


@pytest.fixture
def translator(app) -> User:
    return make_user(email="translator@example.org", role=Role.TRANSLATOR)


# --- flask users create, create-token ------------------------------------------------------------


@pytest.mark.parametrize("role", ["organizer", "mailroom", "translator", "admin"])
def test_users_create_makes_an_account_of_any_role(app, runner, tmp_path, role):
    secret = tmp_path / "password"
    secret.write_text("a long enough passphrase\n", encoding="utf-8")
    result = runner.invoke(
        args=[
            "users", "create", f"Someone.{role}@Example.org", "--role", role,
            "--password-file", str(secret), "--name", "Someone",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"created {role} someone.{role}@example.org" in result.output
    user = account(f"someone.{role}@example.org")
    assert user.role is Role(role) and user.active and user.name == "Someone"
    assert verify_password(user.password_hash, "a long enough passphrase")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "user")).one()
    assert entry.changes == {"role": role} and entry.entity_id == user.id

    browser = app.test_client()
    response = submit(
        browser,
        "/login",
        {"email": f"someone.{role}@example.org", "password": "a long enough passphrase"},
    )
    assert response.status_code == 302


def test_users_create_refuses_an_existing_address_a_short_password_and_an_unknown_role(
    runner, tmp_path, organizer
):
    secret = tmp_path / "password"
    secret.write_text("a long enough passphrase", encoding="utf-8")
    taken = runner.invoke(
        args=["users", "create", "ORGANIZER@example.org", "--role", "mailroom",
              "--password-file", str(secret)]
    )  # fmt: skip
    assert taken.exit_code != 0
    assert "email: An account with this address already exists." in taken.output
    assert account("organizer@example.org").role is Role.ORGANIZER

    secret.write_text("short", encoding="utf-8")
    short = runner.invoke(
        args=["users", "create", "new@example.org", "--role", "mailroom",
              "--password-file", str(secret)]
    )  # fmt: skip
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    unknown = runner.invoke(args=["users", "create", "new@example.org", "--role", "boss"])
    assert unknown.exit_code != 0 and "'boss' is not one of" in unknown.output
    assert account("new@example.org") is None


def test_users_create_token_prints_a_token_once_and_keeps_only_its_hash(app, runner, volunteer):
    result = runner.invoke(
        args=["users", "create-token", "Mailroom@Example.org", "--label", "scanner"]
    )
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip()
    assert TOKEN.fullmatch(raw), result.stdout  # the token alone on standard output
    assert "Copy it now: it is not shown again." in result.stderr
    (token,) = tokens_of(volunteer.id)
    assert token.label == "scanner" and raw not in token.token_hash
    with app.app_context():
        assert user_for_token(raw, record_use=True).id == volunteer.id

    second = runner.invoke(args=["users", "create-token", volunteer.email, "--label", "script"])
    assert second.stdout.strip() != raw and len(tokens_of(volunteer.id)) == 2


@pytest.mark.parametrize(
    ("email", "label", "problem"),
    [
        (
            "nobody@example.org",
            "scanner",
            "there is no account with the address nobody@example.org",
        ),
        ("mailroom@example.org", "   ", "label: Give the token a label"),
    ],
)
def test_users_create_token_refuses_clearly(runner, volunteer, translator, email, label, problem):
    result = runner.invoke(args=["users", "create-token", email, "--label", label])
    assert result.exit_code != 0
    assert problem in result.output
    assert db.session.scalars(select(ApiToken)).all() == []


def test_users_create_token_refuses_a_deactivated_account(runner, volunteer):
    volunteer.active = False
    db.session.commit()
    result = runner.invoke(args=["users", "create-token", volunteer.email, "--label", "x"])
    assert result.exit_code != 0 and "is deactivated" in result.output


# --- the account page and its tokens -------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.ADMIN, Role.MAILROOM])
def test_a_token_is_shown_once_then_listed_without_its_value(app, client, role):
    user = make_user(email="holder@example.org", role=role)
    log_in(client, user)
    page = client.get("/account")
    assert page.status_code == 200
    text = page_text(page)
    assert "holder@example.org" in text and "You have no API tokens." in text
    assert "sent in the header “Authorization: Bearer <token>”" in text

    created = submit(client, page, {"label": "Scanning station"}, action="/account/tokens")
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    raw = TOKEN.search(created.get_data(as_text=True)).group(0)
    assert "Copy it now: it is shown only this once." in page_text(created)
    (token,) = tokens_of(user.id)
    assert token.label == "Scanning station" and raw not in token.token_hash
    with app.app_context():
        assert user_for_token(raw, record_use=True, today=date(2026, 3, 4)).id == user.id
        db.session.commit()

    again = client.get("/account")
    assert TOKEN.search(again.get_data(as_text=True)) is None  # never shown again
    row = re.search(r'<tr id="token-\d+">(.*?)</tr>', again.get_data(as_text=True), re.DOTALL)
    assert "Scanning station" in row.group(1)
    assert "Mar 4, 2026" in row.group(1)  # the day it was last used
    assert "Copy it now" not in page_text(again)


def test_a_token_needs_a_label_and_keeps_what_was_typed(client, organizer):
    log_in(client, organizer)
    empty = submit(client, "/account", {"label": "  "}, action="/account/tokens")
    assert empty.status_code == 422
    assert "Give the token a label, such as where it will be used." in page_text(empty)
    long = submit(client, "/account", {"label": "x" * 101}, action="/account/tokens")
    assert long.status_code == 422
    assert 'value="' + "x" * 101 + '"' in long.get_data(as_text=True)
    assert tokens_of(organizer.id) == []


def test_revoking_a_token_stops_it_at_once(app, client, organizer, admin):
    log_in(client, organizer)
    created = submit(client, "/account", {"label": "laptop"}, action="/account/tokens")
    raw = TOKEN.search(created.get_data(as_text=True)).group(0)
    (token,) = tokens_of(organizer.id)
    revoke = f"/account/tokens/{token.id}/revoke"

    assert client.post(revoke).status_code == 400  # no CSRF token, nothing done
    assert tokens_of(organizer.id)[0].revoked_at is None

    # Someone else's token is as unknown as one that never existed.
    other = app.test_client()
    log_in(other, admin)
    assert submit(other, "/account", action=revoke).status_code == 404
    assert tokens_of(organizer.id)[0].revoked_at is None

    response = submit(client, "/account", action=revoke)
    assert response.status_code == 302
    page = follow(client, response)
    assert flashed(page) == ["The token “laptop” is revoked: it no longer works."]
    assert "You have no API tokens." in page_text(page)
    with app.app_context():
        assert user_for_token(raw, record_use=True) is None
    assert submit(client, "/account", action=revoke).status_code == 404


def test_a_translator_has_an_account_page_with_tokens_for_the_desk(client, translator):
    log_in(client, translator)
    page = client.get("/account")
    assert page.status_code == 200
    text = page_text(page)
    assert "Translator" in text and "Go to the translation desk" in text
    assert "API tokens" in text
    made = submit(client, page, {"label": "script"}, action="/account/tokens")
    assert made.status_code in (200, 302)
    assert len(db.session.scalars(select(ApiToken)).all()) == 1


# --- roles: invitations, landing pages, navigation, refusals -------------------------------------


def test_an_admin_invites_a_mailroom_volunteer_who_lands_in_the_mailroom(
    app, client, admin, mailroom_home
):
    log_in(client, admin)
    form = client.get("/admin/users")
    assert 'value="mailroom"' in form.get_data(as_text=True)
    assert 'value="translator"' in form.get_data(as_text=True)
    sent = submit(
        client, form, {"email": "vol@example.org", "role": "mailroom"}, action="/admin/invitations"
    )
    assert sent.status_code == 302
    (message,) = sent_mail("invitation")
    link = re.search(r"/invitations/[A-Za-z0-9_-]+", message.body_text).group(0)

    newcomer = app.test_client()
    page = newcomer.get(link)
    assert "as a mailroom volunteer" in page_text(page)
    data = {
        "name": "Vera",
        "password": "a brand new passphrase",
        "password_again": "a brand new passphrase",
    }
    accepted = submit(newcomer, page, data, action=link)
    assert accepted.status_code == 302 and accepted.headers["Location"] == mailroom_home
    assert account("vol@example.org").role is Role.MAILROOM
    assert "Mailroom volunteer" in page_text(client.get("/admin/users"))


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.ORGANIZER, "/manage"),
        (Role.ADMIN, "/manage"),
        (Role.MAILROOM, "mailroom"),
        (Role.TRANSLATOR, "/translate"),
    ],
)
def test_each_role_lands_on_its_own_start_page(client, mailroom_home, role, home):
    home = mailroom_home if home == "mailroom" else home
    make_user(email="someone@example.org", role=role)
    response = submit(client, "/login", {"email": "someone@example.org", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == home
    assert client.get("/login").headers["Location"] == home  # already logged in
    # A page asked for before the login still wins.
    client.post(
        "/logout", data={"csrf_token": csrf_token(client.get("/account").get_data(as_text=True))}
    )
    asked = submit(
        client,
        "/login?next=/account/password",
        {"email": "someone@example.org", "password": PASSWORD},
    )
    assert asked.headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (
            Role.ORGANIZER,
            [
                "Organizers → /manage", "Drives → /drives", "Mailroom → /mailroom",
                "Translation desk → /translate", "Account → /account",
            ],
        ),
        (
            Role.ADMIN,
            [
                "Organizers → /manage", "Drives → /drives", "Mailroom → /mailroom",
                "Translation desk → /translate", "Accounts → /admin/users",
                "Organisation → /admin/organisation", "Outbox → /admin/outbox",
                "Account → /account",
            ],
        ),
        (Role.MAILROOM, ["Mailroom → /mailroom", "Account → /account"]),
        (Role.TRANSLATOR, ["Translation desk → /translate", "Account → /account"]),
    ],
)  # fmt: skip
def test_the_navigation_shows_each_role_what_it_may_use(client, mailroom_home, role, links):
    log_in(client, make_user(email="someone@example.org", role=role))
    page = client.get("/account")
    links = [link.replace("→ /mailroom", f"→ {mailroom_home}") for link in links]
    assert nav_links(page) == links
    assert "Log out" in page_text(page)


def test_the_mailroom_link_leads_to_the_mailroom_page(app, client, volunteer):
    # The mailroom's own pages are another feature's: its start page, the review desk, is
    # linked by its endpoint.
    log_in(client, volunteer)
    assert nav_links(client.get("/account"))[0] == "Mailroom → /mailroom"
    assert client.get("/mailroom").status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/manage/", "/manage/prisoners", "/drives", "/drives/new", "/manage/import/", "/admin/users",
     "/admin/organisation", "/admin/outbox", "/manage/audit"],
)  # fmt: skip
@pytest.mark.parametrize("role", [Role.MAILROOM, Role.TRANSLATOR])
def test_mailroom_volunteers_and_translators_get_no_organizer_page(client, role, url):
    log_in(client, make_user(email="someone@example.org", role=role))
    response = client.get(url)
    assert response.status_code == 403, url
    assert "Your account may not do this." in page_text(response)
