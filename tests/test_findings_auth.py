"""Issue 13, findings 5–7: rate limits across processes, targeted lockout, sessions that
survived logout. Each test is named after its finding and fails if the finding comes back."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import LoginLink, LoginSession
from app.models.base import utcnow
from tests.conftest import csrf_token, flashed, follow, page_text, submit
from tests.factories import make_user
from tests.isolation import isolate_requests
from tests.mailbox import sent_mail
from tests.servers import (
    REPO,
    VENV_BIN,
    free_port,
    konvert_environment,
    listening,
    redis_server,
    run_sh,
    stop_group,
)

PASSWORD = "correct horse battery staple"  # the factories' password
PUBLIC_URL = "https://konvert.example"
OWNER = "organizer@example.org"


@pytest.fixture(autouse=True)
def _public_url(app):
    """Links in emails are built on the configured public address."""
    app.config["PUBLIC_URL"] = PUBLIC_URL


def _login(client, email, password):
    return submit(client, "/login", {"email": email, "password": password})


def _logged_in(client) -> bool:
    """True when the organizers' pages open instead of sending to the login page."""
    response = client.get("/manage")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    return False


def _log_out(client):
    return submit(client, "/account/password", action="/logout")


def _outbox(kind, language="en"):
    """The messages of this kind as they were sent (sent outbox rows keep no content)."""
    return sent_mail(kind, language=language)


def _link_in(message) -> str:
    match = re.search(rf"{PUBLIC_URL}(/login/link/[A-Za-z0-9_-]+)", message.body_text)
    assert match, message.body_text
    assert match.group(0) in message.body_html
    return match.group(1)


def _ask_for_link(client, email, **kwargs):
    return submit(client, "/login/link", {"email": email}, **kwargs)


def _use_link(client, link):
    """Open the link from the email, then press its button, as the owner does."""
    page = client.get(link)
    if page.status_code != 200:
        return page
    return submit(client, page, action=link)


def _raw_csrf(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("csrf_token")


# --- 5. rate limits per process ------------------------------------------------------------------

CHECK_LIMIT = 10


def _post_checks(url: str, clients: list[str], parallel: int = 6) -> Counter[int]:
    """POST the censor-risk check once for each client address in ``clients`` (sent as
    X-Forwarded-For: the server trusts one proxy), over ``parallel`` connections at once.

    A letter of a few thousand characters takes the server a moment to check: while one
    process is busy, the next connections go to another, if there is one.
    """
    text = "Здравствуйте! Как вы там? Надеюсь, письма доходят. " * 80
    body = json.dumps({"text": text, "language": "ru"}).encode()

    def one(client: str) -> int:
        request = urllib.request.Request(
            url + "/api/v1/check",
            data=body,
            headers={"Content-Type": "application/json", "X-Forwarded-For": client},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    with ThreadPoolExecutor(parallel) as pool:
        return Counter(pool.map(one, clients))


def _limit_holds(url: str) -> Counter[int]:
    """3 × N posts from one client against a limit of N, after every process has warmed up.

    The warm-up posts come from other clients (each with a budget of its own): the first
    check in a process loads the censor-risk dictionaries, and a process busy with that
    leaves the next connections to the others.
    """
    warm_up = _post_checks(url, [f"198.51.100.{number}" for number in range(12)])
    assert warm_up == Counter({200: 12})
    return _post_checks(url, ["203.0.113.7"] * (3 * CHECK_LIMIT))


def _instance(migrated_database: Path, tmp_path: Path) -> Path:
    instance = tmp_path / "served"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "konvert.db")
    return instance


def test_finding_05_make_run_holds_each_limit_across_the_whole_server(migrated_database, tmp_path):
    """Served by scripts/run.sh with its defaults (rate limits in memory), 3 × N posts sent
    over 6 connections at once against a limit of N: exactly N get through. (With the two
    worker processes `make run` used to start, about 2 × N did.)"""
    instance = _instance(migrated_database, tmp_path)
    settings = {"RATELIMIT_CHECKS": f"{CHECK_LIMIT} per minute", "PROXY_COUNT": "1"}
    with run_sh(instance, settings, tmp_path / "server.log") as served:
        assert served.wait_for_workers() == 1
        statuses = _limit_holds(served.url)
        assert statuses == Counter({200: CHECK_LIMIT, 429: 2 * CHECK_LIMIT}), served.log_text()


def test_finding_05_on_redis_the_limits_hold_across_worker_processes(migrated_database, tmp_path):
    """Scaled out: two gunicorn worker processes counting in a real Redis."""
    instance = _instance(migrated_database, tmp_path)
    with redis_server(tmp_path) as redis_url:
        settings = {
            "RATELIMIT_CHECKS": f"{CHECK_LIMIT} per minute",
            "RATELIMIT_STORAGE_URI": redis_url,
            "WEB_WORKERS": "2",
            "PROXY_COUNT": "1",
        }
        with run_sh(instance, settings, tmp_path / "server.log") as served:
            assert served.wait_for_workers() == 2
            statuses = _limit_holds(served.url)
            assert statuses == Counter({200: CHECK_LIMIT, 429: 2 * CHECK_LIMIT}), served.log_text()


def test_finding_05_run_sh_refuses_several_processes_on_a_per_process_store(tmp_path):
    instance = tmp_path / "served"
    instance.mkdir()
    port = free_port()
    environment = konvert_environment(instance, {"WEB_WORKERS": "2"})
    environment.update({"HOST": "127.0.0.1", "PORT": str(port)})
    result = subprocess.run(
        [str(REPO / "scripts" / "run.sh")],
        cwd=REPO,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Refusing KONVERT_WEB_WORKERS=2" in result.stderr
    assert "every limit would be multiplied by 2" in result.stderr
    assert "KONVERT_RATELIMIT_STORAGE_URI" in result.stderr
    assert list(instance.iterdir()) == []  # refused before anything was migrated or served
    assert not listening(port)


@pytest.mark.parametrize("how", ["--workers", "WEB_CONCURRENCY"])
def test_finding_05_gunicorn_refuses_several_processes_on_a_per_process_store(tmp_path, how):
    """The same refusal for a gunicorn started by hand in the checkout (gunicorn.conf.py)."""
    instance = tmp_path / "served"
    instance.mkdir()
    port = free_port()
    environment = konvert_environment(instance, {})
    command = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "app:create_app()"]
    if how == "--workers":
        command[1:1] = ["--workers", "3"]
    else:
        environment["WEB_CONCURRENCY"] = "3"
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        stop_group(process)
    text = output.decode(errors="replace")
    assert process.returncode == 1, text
    assert "Refusing to start 3 web worker processes" in text
    assert "every limit would be multiplied by 3" in text
    assert not listening(port)


@pytest.fixture
def proxied_client(migrated_database, tmp_path):
    """A client of the app configured to sit behind one reverse proxy."""
    instance = tmp_path / "behind-proxy"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "konvert.db")
    application = create_app(
        "testing",
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'konvert.db'}",
            "PROXY_COUNT": 1,
            "RATELIMIT_CHECKS": "2 per minute",
        },
    )
    isolate_requests(application)
    with application.app_context():
        yield application.test_client()
        db.session.remove()
        db.engine.dispose()


def _check_from(client, forwarded_for: str, remote: str = "10.0.0.1") -> int:
    response = client.post(
        "/api/v1/check",
        json={"text": "Hello", "language": "en"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": remote},
    )
    return response.status_code


def test_finding_05_forwarded_addresses_count_only_behind_configured_proxies(
    app, client, proxied_client
):
    # Behind one proxy (KONVERT_PROXY_COUNT=1): the client's address is the one it forwards.
    assert [_check_from(proxied_client, "198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert _check_from(proxied_client, "198.51.100.2") == 200
    # Without a proxy (the default, 0), a forged header does not open a fresh budget.
    app.config["RATELIMIT_CHECKS"] = "2 per minute"
    assert [_check_from(client, f"203.0.113.{n}") for n in range(3)] == [200, 200, 429]


# --- 6. targeted lockout -------------------------------------------------------------------------


def test_finding_06_a_locked_out_owner_logs_in_through_an_emailed_link(app, client, organizer):
    attacker = app.test_client()
    for _attempt in range(5):
        assert _login(attacker, OWNER, "a wrong guess here").status_code == 422
    locked = _login(client, OWNER, PASSWORD)
    assert locked.status_code == 429
    assert "Too many wrong passwords for this account." in page_text(locked)
    assert 'href="/login/link"' in locked.get_data(as_text=True)
    assert not _logged_in(client)

    asked = _ask_for_link(client, OWNER)
    assert asked.status_code == 200
    assert "If an account exists for that address, we have sent it a link" in page_text(asked)
    (message,) = _outbox("login_link")
    assert message.recipient == OWNER
    assert message.subject == "Log in to Konvert"  # content-neutral
    assert "15 minutes" in message.body_text and "ignore" in message.body_text
    link = _link_in(message)

    opened = client.get(link)
    assert opened.status_code == 200
    assert f"You are about to log in as {OWNER}." in page_text(opened)
    assert not _logged_in(client)  # opening the link (as a mail scanner does) is not a login
    response = submit(client, opened, action=link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage"
    assert _logged_in(client)
    assert not _logged_in(attacker)


def test_finding_06_a_login_link_works_once_and_expires(app, client, organizer):
    app.config["LOGIN_LINK_MINUTES"] = 5
    _ask_for_link(client, OWNER)
    _ask_for_link(client, OWNER)
    first, second = _outbox("login_link")
    assert "expires in 5 minutes" in first.body_text
    rows = db.session.scalars(select(LoginLink).order_by(LoginLink.id)).all()
    assert [row.expires_at - row.created_at for row in rows] == [timedelta(minutes=5)] * 2

    _use_link(client, _link_in(first))
    assert _logged_in(client)
    someone = app.test_client()
    for link in (_link_in(first), _link_in(second)):  # using one ends the others too
        again = someone.get(link)
        assert again.status_code == 410
        assert "This link has already been used." in page_text(again)
    assert not _logged_in(someone)

    _ask_for_link(someone, OWNER)
    third = _outbox("login_link")[-1]
    row = db.session.scalars(select(LoginLink).order_by(LoginLink.id.desc())).first()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = _use_link(someone, _link_in(third))
    assert expired.status_code == 410
    assert "This link has expired." in page_text(expired)
    assert not _logged_in(someone)


def test_finding_06_a_login_link_is_stored_only_as_a_keyed_hash(app, client, organizer):
    _ask_for_link(client, OWNER)
    token = _link_in(_outbox("login_link")[0]).rsplit("/", 1)[1]
    stored = db.session.scalars(select(LoginLink)).one().token_hash
    key = app.config["SECRET_KEY"].encode()
    assert stored == hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
    assert stored != hashlib.sha256(token.encode()).hexdigest()  # not a plain hash


def test_finding_06_the_link_page_answers_the_same_whether_or_not_the_account_exists(
    client, organizer
):
    make_user(email="gone@example.org", active=False)
    strip = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')
    answers = [
        _ask_for_link(client, email) for email in ("nobody@example.org", "gone@example.org", OWNER)
    ]
    assert {answer.status_code for answer in answers} == {200}
    assert len({strip.sub("", answer.get_data(as_text=True)) for answer in answers}) == 1
    assert [message.recipient for message in _outbox("login_link")] == [OWNER]


def test_finding_06_requests_for_links_cannot_lock_the_owner_out_of_email(app, client, organizer):
    """However many links others ask for, the owner is never refused and always holds a
    working link; the owner's address gets at most LOGIN_LINK_MAX_OPEN of them."""
    app.config["RATELIMIT_PUBLIC_WRITES"] = "3 per minute"
    attacker = app.test_client()
    for number in range(20):  # from many addresses, so that no per-address limit stops it
        answer = _ask_for_link(attacker, OWNER, environ_base={"REMOTE_ADDR": f"192.0.2.{number}"})
        assert answer.status_code == 200
    # The owner asks too, and is answered like anyone (no refusal that names the account).
    answer = _ask_for_link(client, OWNER)
    assert answer.status_code == 200
    assert "we have sent it a link to log in" in page_text(answer)
    messages = _outbox("login_link")
    assert len(messages) == app.config["LOGIN_LINK_MAX_OPEN"] == 3
    assert {message.recipient for message in messages} == {OWNER}
    # Any of the links in the owner's inbox works.
    response = _use_link(client, _link_in(messages[-1]))
    assert flashed(follow(client, response)) == []
    assert _logged_in(client)
    # Then the others are spent, and a new request is answered with a new link.
    _log_out(client)
    _ask_for_link(client, OWNER)
    assert len(_outbox("login_link")) == 4

    # One address asking too often is refused, for that address only.
    for _request in range(3):
        _ask_for_link(attacker, "x@example.org", environ_base={"REMOTE_ADDR": "192.0.2.250"})
    refused = _ask_for_link(attacker, "x@example.org", environ_base={"REMOTE_ADDR": "192.0.2.250"})
    assert refused.status_code == 429
    assert _ask_for_link(client, OWNER).status_code == 200


# --- 7. sessions survive logout ------------------------------------------------------------------


def test_finding_07_a_cookie_copied_before_logout_does_not_open_manage_after_it(
    app, client, organizer
):
    _login(client, OWNER, PASSWORD)
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert _logged_in(thief)  # the copy works while the session is open

    assert flashed(follow(client, _log_out(client))) == ["You are logged out."]
    assert not _logged_in(client)
    thief.set_cookie("session", copied)
    assert not _logged_in(thief)
    assert db.session.scalars(select(LoginSession)).all() == []


def test_finding_07_logout_ends_this_browser_only(app, client, organizer):
    elsewhere = app.test_client()
    _login(client, OWNER, PASSWORD)
    _login(elsewhere, OWNER, PASSWORD)
    _log_out(client)
    assert not _logged_in(client)
    assert _logged_in(elsewhere)


def test_finding_07_the_session_key_is_kept_only_as_a_keyed_hash(app, client, organizer):
    _login(client, OWNER, PASSWORD)
    with client.session_transaction() as session:
        key = session["_user_id"]
    stored = db.session.scalars(select(LoginSession)).one()
    assert stored.user_id == organizer.id
    assert key not in stored.key_hash
    secret = app.config["SECRET_KEY"].encode()
    assert stored.key_hash == hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def test_finding_07_a_session_ends_after_session_days(app, client, organizer):
    _login(client, OWNER, PASSWORD)
    stored = db.session.scalars(select(LoginSession)).one()
    stored.created_at = utcnow() - timedelta(days=app.config["SESSION_DAYS"], seconds=1)
    db.session.commit()
    assert not _logged_in(client)


@pytest.mark.parametrize("how", ["password", "link"])
def test_finding_07_the_csrf_token_changes_at_login(app, client, organizer, how):
    before = csrf_token(client.get("/login").get_data(as_text=True))
    raw_before = _raw_csrf(client)
    if how == "password":
        _login(client, OWNER, PASSWORD)
    else:
        _ask_for_link(client, OWNER)
        _use_link(client, _link_in(_outbox("login_link")[0]))
    assert _logged_in(client)
    after = csrf_token(client.get("/account/password").get_data(as_text=True))
    assert _raw_csrf(client) not in (None, raw_before)
    # A token from before the login no longer works for the logged-in forms.
    refused = client.post("/logout", data={"csrf_token": before})
    assert refused.status_code == 400
    assert _logged_in(client)
    client.post("/logout", data={"csrf_token": after})
    assert not _logged_in(client)


def test_finding_06_the_login_link_email_is_in_the_reader_s_language(client, organizer):
    submit(client, "/login/link", {"email": OWNER}, headers={"Accept-Language": "ru"})
    (message,) = _outbox("login_link", language="ru")
    assert message.subject == "Вход в Konvert"
    assert "Кто-то запросил ссылку для входа" in message.body_text
    assert "действует 15 минут — до" in message.body_text
    assert _link_in(message).startswith("/login/link/")
