"""The home page: one per role, built from the panels each domain contributes."""

from __future__ import annotations

from jinja2 import ChoiceLoader, DictLoader

from napo_tracker.main import home
from napo_tracker.main.home import Panel


def test_each_role_has_a_home(client, world, login_as):
    for who, lead in (
        ("london_rep", b"Your regions: London."),
        ("official", b"You see every region: the national overview."),
        ("admin", b"You manage accounts, regions and units."),
    ):
        user = login_as(getattr(world, who))
        response = client.get("/")
        assert response.status_code == 200
        assert f"Welcome, {user.display_name}".encode() in response.data
        assert lead in response.data
        assert response.headers["Cache-Control"] == "no-store"
        assert (b'href="/admin/users/"' in response.data) is (who == "admin")
        assert (b'href="/audit/"' in response.data) is (who != "london_rep")


def test_panels_come_from_their_providers(app, client, world, login_as, monkeypatch):
    monkeypatch.setattr(
        app.jinja_env,
        "loader",
        ChoiceLoader(
            [DictLoader({"_test_panel.html": "<p>{{ panel.context.count }} open cases</p>"}), app.jinja_env.loader]
        ),
    )

    def reps_only(user):
        return (
            Panel(
                title="Your open work",
                template="_test_panel.html",
                context={"count": 3},
                link_endpoint="regions.index",
                link_label="See your regions",
            )
            if user.is_rep
            else None
        )

    monkeypatch.setattr(home, "PANEL_PROVIDERS", [reps_only])
    login_as(world.london_rep)
    page = client.get("/").data
    assert b"Your open work" in page and b"<p>3 open cases</p>" in page
    assert b'<a href="/regions/">See your regions</a>' in page
    login_as(world.official)
    assert b"Your open work" not in client.get("/").data


def test_navigation_marks_the_current_page(client, world, login_as):
    login_as(world.london_rep)
    page = client.get("/").data.decode()
    assert 'aria-current="page" href="/"' in page
    assert "/admin/users/" not in page
