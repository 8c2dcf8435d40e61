"""Personal API tokens: made once by the command line, kept only as a hash, sent as a Bearer
token, revoked from the command line or the console (admins anyone's, staff their own), and
dead with a disabled account; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models import utcnow
from app.models.staff import ApiToken, AuditLog
from app.staff import accounts, api_tokens
from tests.fixtures_staff import make_staff, sign_in, staff_post

ADMIN = "alex@mindset-tms.example"
STAFF = "sam@mindset-tms.example"


@pytest.fixture
def app(any_app):
    return any_app


def cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=["staff", "token", *args])
    return result


def created_token(app, email: str) -> str:
    result = cli(app, "create", "--email", email)
    assert result.exit_code == 0, result.output
    return re.search(r"^(mtms_\S+)$", result.output, re.MULTILINE).group(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def staff_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation the OpenAPI document marks as needing a staff token,
    with its path parameters filled in."""
    from app.api.schema import openapi_document

    found = []
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            if operation.get("security"):
                filled = path.replace("{course_id}", "x" * 16).replace("{number}", "1")
                found.append((method.upper(), "/api/v1" + filled))
    return found


def test_the_command_prints_a_token_once_and_keeps_only_its_hash(app):
    with app.app_context():
        make_staff(STAFF)
    token = created_token(app, STAFF)
    assert len(token) > 40
    with app.app_context():
        record = db.session.execute(select(ApiToken)).scalar_one()
        assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token.startswith(record.prefix) and len(record.prefix) == 12
        assert record.last_used_at is None and record.revoked_at is None
        # Nowhere in the database is the token itself.
        stored = json.dumps([[str(v) for v in row] for row in db.session.execute(select(ApiToken.__table__))])
        assert token not in stored
        assert db.session.execute(select(AuditLog.action).where(AuditLog.action == "token.create")).scalar_one()
    listing = cli(app, "list").output
    assert record.prefix in listing and STAFF in listing and "last used never" in listing
    assert token not in listing
    # A second token is another value; an unknown or disabled account gets none.
    assert created_token(app, STAFF) != token
    assert cli(app, "create", "--email", "nobody@example.com").exit_code != 0
    with app.app_context():
        make_staff("gone@mindset-tms.example", active=False)
    refused = cli(app, "create", "--email", "gone@mindset-tms.example")
    assert refused.exit_code != 0 and "disabled" in refused.output


def test_a_token_opens_the_staff_routes_and_is_stamped_when_used(app):
    with app.app_context():
        make_staff(STAFF)
    token = created_token(app, STAFF)
    client = app.test_client()
    response = client.get("/api/v1/course-templates", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    assert "rtms_36" in [template["id"] for template in response.get_json()["templates"]]
    # The scheme's name is case-insensitive (RFC 9110).
    assert client.get("/api/v1/course-templates", headers={"Authorization": f"bearer {token}"}).status_code == 200
    with app.app_context():
        record = db.session.execute(select(ApiToken)).scalar_one()
        assert record.last_used_at is not None and utcnow() - record.last_used_at < timedelta(minutes=5)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer xmtms_not-a-token-we-made",
        "Token abc",
        "Bearer " + "x" * 500,
    ],
)
def test_every_staff_route_is_401_with_no_token_or_a_wrong_one(app, header):
    client = app.test_client()
    headers = {"Authorization": header} if header is not None else {}
    operations = staff_operations()
    assert len(operations) == 5
    for method, path in operations:
        response = client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 401, (method, path, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "unauthorized"
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        # "invalid_token" only when a Bearer token was sent (RFC 6750).
        assert ("invalid_token" in challenge) == (header or "").startswith("Bearer x")


def test_a_revoked_token_is_403_everywhere_and_others_still_work(app):
    with app.app_context():
        make_staff(STAFF)
    kept, revoked = created_token(app, STAFF), created_token(app, STAFF)
    prefix = revoked[:12]
    result = cli(app, "revoke", prefix)
    assert result.exit_code == 0, result.output
    client = app.test_client()
    for method, path in staff_operations():
        response = client.open(path, method=method, headers=bearer(revoked), json={})
        assert response.status_code == 403, (method, path)
        assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/course-templates", headers=bearer(kept)).status_code == 200
    listing = cli(app, "list").output
    assert re.search(rf"{re.escape(prefix)}.*revoked", listing)
    # By id too; revoking again changes nothing; an unknown one is refused.
    with app.app_context():
        kept_id = api_tokens.find(kept[:12]).id
    assert cli(app, "revoke", str(kept_id)).exit_code == 0
    assert client.get("/api/v1/course-templates", headers=bearer(kept)).status_code == 403
    assert cli(app, "revoke", str(kept_id)).exit_code == 0
    assert cli(app, "revoke", "999999").exit_code != 0
    assert cli(app, "revoke", "hello").exit_code != 0
    with app.app_context():
        actions = db.session.execute(select(AuditLog.action).where(AuditLog.action == "token.revoke")).all()
        assert len(actions) == 2


def test_disabling_an_account_ends_its_tokens_for_good(app):
    with app.app_context():
        user_id = make_staff(STAFF).id
    token = created_token(app, STAFF)
    client = app.test_client()
    assert client.get("/api/v1/course-templates", headers=bearer(token)).status_code == 200
    with app.app_context():
        accounts.set_active(user_id, False)
    response = client.get("/api/v1/course-templates", headers=bearer(token))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    with app.app_context():
        accounts.set_active(user_id, True)
    # As with sessions, enabling the account again brings no token back.
    assert client.get("/api/v1/course-templates", headers=bearer(token)).status_code == 403
    assert "revoked" in cli(app, "list").output
    assert client.get("/api/v1/course-templates", headers=bearer(created_token(app, STAFF))).status_code == 200


def test_a_staff_session_cookie_does_not_open_the_staff_api(app):
    with app.app_context():
        make_staff(STAFF)
    client = app.test_client()
    assert sign_in(client, STAFF).status_code == 303
    assert client.get("/api/v1/course-templates").status_code == 401


def test_admins_see_everyone_s_tokens_and_revoke_them_from_the_accounts_page(app):
    with app.app_context():
        make_staff(ADMIN, "admin")
        make_staff(STAFF)
    token = created_token(app, STAFF)
    admin = app.test_client()
    assert sign_in(admin, ADMIN).status_code == 303
    page = admin.get("/staff/accounts").get_data(as_text=True)
    assert "API tokens" in page and token[:12] in page and token not in page
    with app.app_context():
        token_id = api_tokens.find(token[:12]).id
    url = f"/staff/api-tokens/{token_id}/revoke"
    # Without the form's CSRF token nothing happens.
    assert admin.post(url, data={"back": "accounts"}).status_code == 400
    assert app.test_client().get("/api/v1/course-templates", headers=bearer(token)).status_code == 200
    response = staff_post(admin, url, {"back": "accounts"}, follow_redirects=True)
    assert response.status_code == 200 and "it no longer works" in response.get_data(as_text=True)
    assert response.request.path == "/staff/accounts"
    assert app.test_client().get("/api/v1/course-templates", headers=bearer(token)).status_code == 403
    with app.app_context():
        entry = db.session.execute(select(AuditLog).where(AuditLog.action == "token.revoke")).scalar_one()
        assert entry.actor_email == ADMIN and token[:12] in entry.details and STAFF in entry.details
    audit_page = admin.get("/staff/audit").get_data(as_text=True)
    assert "Revoked an API token" in audit_page


def test_staff_revoke_their_own_tokens_but_not_another_person_s(app):
    with app.app_context():
        make_staff(STAFF)
        make_staff("kim@mindset-tms.example")
    mine, theirs = created_token(app, STAFF), created_token(app, "kim@mindset-tms.example")
    client = app.test_client()
    assert sign_in(client, STAFF).status_code == 303
    page = client.get("/staff/account/password").get_data(as_text=True)
    assert "My API tokens" in page and mine[:12] in page and theirs[:12] not in page
    with app.app_context():
        mine_id, theirs_id = api_tokens.find(mine[:12]).id, api_tokens.find(theirs[:12]).id
    refused = staff_post(client, f"/staff/api-tokens/{theirs_id}/revoke", {"back": "accounts"})
    assert refused.status_code == 403
    assert app.test_client().get("/api/v1/course-templates", headers=bearer(theirs)).status_code == 200
    assert staff_post(client, "/staff/api-tokens/999999/revoke").status_code == 404
    done = staff_post(client, f"/staff/api-tokens/{mine_id}/revoke", {"back": "accounts"})
    # Staff go back to their own page (the accounts page is for admins).
    assert done.status_code == 303 and done.headers["Location"].endswith("/staff/account/password")
    assert app.test_client().get("/api/v1/course-templates", headers=bearer(mine)).status_code == 403
    with app.app_context():
        entry = db.session.execute(select(AuditLog).where(AuditLog.action == "token.revoke")).scalar_one()
        assert entry.actor_email == STAFF


def test_the_last_used_stamp_is_written_at_most_once_a_minute(app):
    with app.app_context():
        user = make_staff(STAFF)
        new = api_tokens.create(user.id)
        first = utcnow()
        api_tokens.authenticate(new.token, first)
        api_tokens.authenticate(new.token, first + timedelta(seconds=30))
        assert db.session.get(ApiToken, new.record.id).last_used_at == first
        later = first + timedelta(minutes=2)
        api_tokens.authenticate(new.token, later)
        db.session.expire_all()
        assert db.session.get(ApiToken, new.record.id).last_used_at == later
