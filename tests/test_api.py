"""The sample project's API on a database migrated by Alembic (not create_all), on every engine."""

import json
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    # Starlette 1.x warns on import that its TestClient wants httpx2. The warning is a
    # UserWarning subclass attributed to fastapi.testclient, so a DeprecationWarning filter
    # for starlette.* does not catch it; this one is as narrow as it gets.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning)
    from fastapi.testclient import TestClient

# Cheap Argon2 (the app's default costs about 0.2 s a hash); read by get_settings().
FAST_ARGON2 = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024"}
PASSWORD = "correct horse battery"
USER = sa.table("user", sa.column("id"), sa.column("username"), sa.column("password_hash"))


@pytest.fixture(scope="module")
def api(module_engine_url, make_project, tmp_path_factory):
    """A TestClient on a fresh copy of the app whose database is at head; one per engine."""
    with pytest.MonkeyPatch.context() as mp, make_project(module_engine_url, "0002", tmp_path_factory.mktemp("api")) as ws:
        for name, value in FAST_ARGON2.items():
            mp.setenv(name, value)
        ws.upgrade("head")
        ws.config()  # forgets the `app` modules env.py imported: the app starts from scratch
        import app.config
        import app.db
        import app.main
        import app.security

        # The copy made for this engine, not the repository's nor another engine's.
        assert Path(app.main.__file__).is_relative_to(ws.path)
        for cached in (app.config.get_settings, app.db.get_engine, app.security.password_hash):
            cached.cache_clear()
        assert app.config.get_settings().database_url == module_engine_url
        try:
            with TestClient(app.main.app) as client:
                yield SimpleNamespace(client=client, engine=ws.engine, dialect=ws.dialect, security=app.security)
        finally:
            app.db.get_engine().dispose()  # before the database is dropped
    assert "app" not in sys.modules


def create(api, username: str, **fields):
    payload = {"username": username, "email": f"{username.lower()}@example.com", "password": PASSWORD, **fields}
    return api.client.post("/users", json=payload)


def test_create_returns_the_user_without_any_password(api):
    response = create(api, "ada")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "username", "email"}
    assert body["username"] == "ada" and body["email"] == "ada@example.com"
    assert isinstance(body["id"], int)
    assert PASSWORD not in response.text and "argon2" not in response.text


def test_list_users(api):
    ids = [create(api, name).json()["id"] for name in ("bob", "cyd")]
    response = api.client.get("/users")
    assert response.status_code == 200
    listed = response.json()
    assert [u["id"] for u in listed] == sorted(u["id"] for u in listed)
    assert {u["username"]: u["id"] for u in listed if u["username"] in ("bob", "cyd")} == dict(zip(("bob", "cyd"), ids))
    assert all(set(u) == {"id", "username", "email"} for u in listed)


def test_show_response_prints_what_a_client_receives(api, capsys):
    """course.show.response, which notebooks use to show the API's answers."""
    from course import show

    created = create(api, "fay")
    show.response(created)
    assert capsys.readouterr().out == f"POST /users -> 201 Created\n   {json.dumps(created.json())}\n"
    listed = api.client.get("/users")
    show.response(listed)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "GET /users -> 200 OK"
    assert [json.loads(line) for line in lines[1:]] == listed.json()  # one user a line


def test_get_one_user_and_an_unknown_id(api):
    created = create(api, "dee").json()
    response = api.client.get(f"/users/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created
    missing = api.client.get("/users/999999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no user with id 999999"}


def test_a_taken_username_is_409(api):
    assert create(api, "eve").status_code == 201
    again = create(api, "eve", email="other@example.com")
    assert again.status_code == 409
    assert again.json() == {"detail": "username 'eve' is taken"}
    assert [u["username"] for u in api.client.get("/users").json()].count("eve") == 1


def test_usernames_differing_in_case_depend_on_the_collation(api):
    assert create(api, "Frank").status_code == 201
    response = create(api, "frank")
    if api.dialect == "mysql":
        # MariaDB's default collation (utf8mb4_general_ci) compares case-insensitively:
        # the unique constraint sees 'Frank' and 'frank' as the same name.
        assert response.status_code == 409, response.text
    else:
        # SQLite and PostgreSQL compare bytes: two different users.
        assert api.dialect in ("sqlite", "postgresql")
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"email": "not-an-email"}, ["body", "email"]),
        ({"password": "short"}, ["body", "password"]),
        ({"username": None}, ["body", "username"]),
    ],
    ids=["invalid-email", "short-password", "missing-username"],
)
def test_invalid_input_is_422_and_stores_nothing(api, fields, where):
    payload = {"username": "gus", "email": "gus@example.com", "password": PASSWORD, **fields}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = api.client.post("/users", json=payload)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [where]
    assert "gus" not in [u["username"] for u in api.client.get("/users").json()]


def test_malformed_json_is_422(api):
    response = api.client.post("/users", content=b'{"username": "hal",', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert [error["type"] for error in response.json()["detail"]] == ["json_invalid"]


def test_the_stored_password_is_an_argon2_hash_that_verifies(api):
    user_id = create(api, "ivy").json()["id"]
    with api.engine.connect() as connection:
        stored = connection.execute(sa.select(USER.c.password_hash).where(USER.c.id == user_id)).scalar_one()
    assert stored != PASSWORD and PASSWORD not in stored
    assert stored.startswith("$argon2id$")
    assert "$m=1024,t=1," in stored  # the test's cost from the settings, not the default
    assert api.security.verify_password(PASSWORD, stored)
    assert not api.security.verify_password(PASSWORD + "!", stored)


def test_the_docs_pages_load_nothing_from_another_host(api):
    """Swagger UI and ReDoc work offline: every script and stylesheet comes from the app."""
    import re

    for page in ("/docs", "/redoc"):
        html = api.client.get(page)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets, f"{page} names no script or stylesheet"
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from another host"
            loaded = api.client.get(asset)
            assert loaded.status_code == 200 and len(loaded.content) > 1000, asset
    assert "/openapi.json" in api.client.get("/docs").text
