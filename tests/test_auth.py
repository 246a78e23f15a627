"""Login, lockout, sessions, CSRF and security headers (compliance S-02, S-03, S-07, A-05, A-07)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from tests import factories as f
from tests.conftest import Cast
from xiaodai.audit.models import AuditEvent

LOGIN = "/accounts/login/"
WRONG = "not-the-password-42"
LOGIN_ERROR = "Wrong username or password. After 5 failed attempts the account is locked for 30 minutes."
ROOT = Path(__file__).resolve().parent.parent


def _login(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- login ----------------------------------------------------------------------------------------


def test_login_page_renders(db: None) -> None:
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_wrong_password_shows_the_error(cast: Cast) -> None:
    response = _login(Client(), "mgr", WRONG)
    with translation.override(settings.LANGUAGE_CODE):
        expected = gettext(LOGIN_ERROR)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_wrong_password_is_audited_without_the_password(cast: Cast) -> None:
    """U-01 failed login; P-*: the attempted password is never stored."""
    _login(Client(), "mgr", WRONG)
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.username, event.outcome, event.user_id) == ("mgr", "failure", None)
    assert WRONG not in event.payload()


def test_correct_password_logs_in_and_is_audited(cast: Cast) -> None:
    client = Client()
    response = _login(client, "mgr", f.PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.user_id, event.role) == (cast.user("mgr").pk, "loan_manager")


def test_session_key_changes_at_login(cast: Cast) -> None:
    """S-02: a new session key at login (no session fixation)."""
    client = Client()
    session = client.session
    session["probe"] = "before"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    _login(client, "mgr", f.PASSWORD)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before


def test_logout_invalidates_the_old_session_cookie(cast: Cast) -> None:
    """S-02: the cookie from before logout no longer authenticates."""
    client = Client()
    _login(client, "mgr", f.PASSWORD)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    response = replay.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_session_expires_when_idle(cast: Cast) -> None:
    """S-02: an idle timeout of at most 30 minutes, refreshed on each request."""
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST


# --- lockout --------------------------------------------------------------------------------------


def _fail_five_times(client: Client) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "mgr", WRONG)


def test_correct_password_refused_after_five_failures(cast: Cast) -> None:
    """S-03: five failures lock the account; the right password is then refused."""
    client = Client()
    _fail_five_times(client)
    response = _login(client, "mgr", f.PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)


def test_lockout_is_audited(cast: Cast) -> None:
    """S-03: lockouts are audited."""
    _fail_five_times(Client())
    assert AuditEvent.objects.filter(action="auth.lockout", username="mgr").count() == 1


def test_four_failures_do_not_lock(cast: Cast) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "mgr", WRONG)
    _login(client, "mgr", f.PASSWORD)
    assert _logged_in(client)


def test_lockout_of_one_user_leaves_another_alone(cast: Cast) -> None:
    _fail_five_times(Client())
    client = Client()
    _login(client, "tele", f.PASSWORD)
    assert _logged_in(client)


# --- disabled accounts ----------------------------------------------------------------------------


def test_disabled_users_session_is_rejected(cast: Cast) -> None:
    """A-05: disabling an account ends its live sessions on the next request."""
    client = Client()
    _login(client, "mgr", f.PASSWORD)
    User.objects.filter(username="mgr").update(is_active=False)
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_disabled_user_cannot_log_in(cast: Cast) -> None:
    User.objects.filter(username="mgr").update(is_active=False)
    client = Client()
    _login(client, "mgr", f.PASSWORD)
    assert not _logged_in(client)


# --- CSRF (A-07) ----------------------------------------------------------------------------------


def _csrf_client(cast: Cast, who: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.user(who))
    return client


def test_reveal_without_csrf_token_is_403(cast: Cast) -> None:
    """A-07: state-changing requests need the CSRF token."""
    url = f"/customers/{cast.customers['own'].pk}/reveal/"
    response = _csrf_client(cast, "mgr").post(url, {"field": "phone", "reason": "客户来电核实"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="customer.reveal").exists()


def test_logout_without_csrf_token_is_403(cast: Cast) -> None:
    client = _csrf_client(cast, "mgr")
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/customers/").status_code == 200  # still logged in


def test_login_without_csrf_token_is_403(cast: Cast) -> None:
    response = Client(enforce_csrf_checks=True).post(LOGIN, {"username": "mgr", "password": f.PASSWORD})
    assert response.status_code == 403


def _python_files() -> list[Path]:
    return [p for d in ("xiaodai", "config") for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts]


def test_no_module_exempts_a_view_from_csrf() -> None:
    """A-07: no view opts out of CSRF protection."""
    offenders = [str(p.relative_to(ROOT)) for p in _python_files() if "csrf_exempt" in p.read_text()]
    assert offenders == []


# --- headers (S-07, P-13) -------------------------------------------------------------------------


@pytest.fixture
def customer_page(cast: Cast):  # type: ignore[no-untyped-def]
    return cast.client("mgr").get(f"/customers/{cast.customers['own'].pk}/")


def test_csp_allows_no_third_party_origin(customer_page) -> None:  # type: ignore[no-untyped-def]
    """S-07: the Content-Security-Policy names only this origin."""
    csp = customer_page["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert not re.search(r"https?:|\*|//", csp)


def test_frames_are_denied(customer_page) -> None:  # type: ignore[no-untyped-def]
    assert customer_page["X-Frame-Options"] == "DENY"


def test_content_type_sniffing_is_off(customer_page) -> None:  # type: ignore[no-untyped-def]
    assert customer_page["X-Content-Type-Options"] == "nosniff"


def test_customer_page_is_not_cached(customer_page) -> None:  # type: ignore[no-untyped-def]
    """P-13: pages with personal data are never stored by the browser or a proxy."""
    assert "no-store" in customer_page["Cache-Control"]


def test_referrer_policy_is_same_origin(customer_page) -> None:  # type: ignore[no-untyped-def]
    assert customer_page["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only(cast: Cast) -> None:
    client = Client()
    _login(client, "mgr", f.PASSWORD)
    assert client.cookies[settings.SESSION_COOKIE_NAME]["httponly"]


# --- request id -----------------------------------------------------------------------------------


def test_every_response_has_a_request_id(db: None) -> None:
    response = Client().get(LOGIN)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_well_formed_incoming_request_id_is_kept(db: None) -> None:
    response = Client().get(LOGIN, headers={"X-Request-ID": "edge-1234abcd"})
    assert response["X-Request-ID"] == "edge-1234abcd"


def test_malformed_incoming_request_id_is_replaced(db: None) -> None:
    response = Client().get(LOGIN, headers={"X-Request-ID": "x\r\nSet-Cookie: a=b"})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_request_id_is_in_the_audit_event(cast: Cast) -> None:
    """U-02: the audit event carries the request id of the request that caused it."""
    client = cast.client("mgr")
    response = client.get(
        f"/customers/{cast.customers['own'].pk}/", headers={"X-Request-ID": "trace-00000001"}
    )
    assert response["X-Request-ID"] == "trace-00000001"
    assert AuditEvent.objects.get(action="customer.view").request_id == "trace-00000001"
