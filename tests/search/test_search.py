"""One search box: what each role finds, that the index follows every write, and that no
text typed into the box is an error."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, select, update

from napo_tracker.accounts.models import User
from napo_tracker.cases.models import Case
from napo_tracker.cases.services import update_case
from napo_tracker.evidence.models import EvidenceItem
from napo_tracker.extensions import db
from napo_tracker.search import services as search_services
from napo_tracker.search.models import SearchEntry
from napo_tracker.search.services import MAX_TERMS, search, search_terms
from napo_tracker.testimonies.services import withdraw
from tests import factories


def references(user, text: str) -> list[str]:
    return [hit.reference for hit in search(user, text).hits]


@pytest.fixture
def records(world):
    """A London and a Wales case, a London notice, national and Welsh evidence, an approved
    and a waiting testimony, and a briefing."""
    member = factories.make_member(world.london_rep, world.london, name="Peregrine Quillfeather")
    return {
        "london_case": factories.make_case(
            world.london_rep,
            world.london,
            title="Caseload of sixty-five with no cover",
            description="Signed off with stress after the zebrafinch incident.",
            member_id=member.id,
            next_action="Meet the harbourmaster on Friday",
        ),
        "wales_case": factories.make_case(world.wales_rep, world.wales, title="Caseload beyond the tool in Swansea"),
        "notice": factories.make_notice(world.london_rep, world.london, served_to_name="Morwenna Gatekeeper"),
        "national": factories.make_evidence(
            world.official, metric=None, value=None, statement="Sixty domestic-violence files left in a cupboard"
        ),
        "welsh_statement": factories.make_evidence(
            world.official, region=world.wales, metric=None, value=None, statement="A cupboard of unallocated files"
        ),
        "approved": factories.make_testimony(
            "I told nobody about the kestrel", approved_by=world.official, public_text="Nobody covers the cupboard rota"
        ),
        "waiting": factories.make_testimony("The cupboard is full and nobody reads the waiting one"),
        "briefing": factories.make_briefing(world.official, title="Probation in crisis"),
    }


def test_a_rep_finds_their_regions_records_and_national_evidence_only(world, records):
    assert references(world.london_rep, "caseload") == [records["london_case"].reference]
    assert references(world.london_rep, "harbourmaster") == [records["london_case"].reference]
    assert references(world.london_rep, "gatekeeper") == [records["notice"].reference]
    assert references(world.london_rep, "cupboard") == [records["national"].reference]
    assert references(world.london_rep, "crisis") == []  # briefings are for officials
    assert references(world.wales_rep, "cupboard") == sorted(
        [records["national"].reference, records["welsh_statement"].reference],
        key=references(world.wales_rep, "cupboard").index,
    )


def test_an_official_finds_every_region_and_testimonies_public_text_and_briefings(world, records):
    assert set(references(world.official, "caseload")) == {
        records["london_case"].reference,
        records["wales_case"].reference,
    }
    found = set(references(world.official, "cupboard"))
    assert found == {records["national"].reference, records["welsh_statement"].reference, records["approved"].reference}
    assert references(world.official, "crisis") == [records["briefing"].reference]
    assert references(world.admin, "crisis") == [records["briefing"].reference]


def test_encrypted_text_is_never_searchable(world, records):
    for words in ("zebrafinch", "Quillfeather", "Peregrine", "kestrel", "colleagues off sick"):
        assert references(world.official, words) == []
        assert references(world.london_rep, words) == []
    row = db.session.scalar(select(SearchEntry).filter_by(kind="testimony", record_id=records["approved"].id))
    assert row is not None and "kestrel" not in row.body and "cupboard" in row.body


def test_the_index_follows_every_write(world, records):
    case = records["london_case"]
    update_case(world.london_rep, case, title="Relocation to Croydon without notice", expected_version=case.version)
    db.session.commit()
    assert references(world.london_rep, "croydon") == [case.reference]
    assert case.reference not in references(world.london_rep, "sixty")

    # A write that bypasses the services (a bulk update, a migration) is followed too.
    db.session.execute(update(Case).where(Case.id == case.id).values(next_action="Call the ombudsman"))
    db.session.commit()
    assert references(world.london_rep, "ombudsman") == [case.reference]

    db.session.execute(delete(EvidenceItem).where(EvidenceItem.id == records["national"].id))
    db.session.commit()
    assert records["national"].reference not in references(world.official, "cupboard")

    withdraw(records["approved"])
    db.session.commit()
    assert records["approved"].reference not in references(world.official, "cupboard")

    factories.make_section(world.official, records["briefing"], heading="Next steps", body="Ask the minister")
    assert references(world.official, "minister") == [records["briefing"].reference]


def test_an_exact_reference_comes_first(world, records):
    reference = records["wales_case"].reference
    assert references(world.official, reference)[0] == reference
    assert references(world.official, reference.lower())[0] == reference


def test_words_held_by_too_many_records_are_shown_newest_first_exact_reference_still_first(
    monkeypatch, client, login_as, world, records
):
    """Above the cap, relevance is not weighed: the newest come first, the page says so, and a
    reference typed exactly still leads."""
    monkeypatch.setattr(search_services, "RANKED_AT_MOST", 2)
    newest = factories.make_case(world.london_rep, world.london, title="Caseload again, the newest")
    found = search(world.official, "caseload")
    assert found.is_newest_first and found.hits[0].reference == newest.reference
    assert {hit.reference for hit in found.hits} >= {records["london_case"].reference, records["wales_case"].reference}
    oldest = records["london_case"].reference
    monkeypatch.setattr(search_services, "RANKED_AT_MOST", 0)  # any match is too many to rank
    by_reference = search(world.official, f"{oldest}")
    assert by_reference.is_newest_first and by_reference.hits[0].reference == oldest
    monkeypatch.setattr(search_services, "RANKED_AT_MOST", 2)
    login_as(world.official)
    page = client.get("/search?q=caseload")
    assert "newest first" in page.text and newest.reference in page.text
    monkeypatch.setattr(search_services, "RANKED_AT_MOST", 2_000)
    assert not search(world.official, "caseload").is_newest_first


def test_words_found_by_their_stem_and_beginning(world, records):
    assert records["london_case"].reference in references(world.london_rep, "caseloads")
    assert records["london_case"].reference in references(world.london_rep, "harbour")


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "!!! ??? ...",
        "'; DROP TABLE cases; --",
        'caseload" OR "x',
        "NEAR(caseload cover)",
        "title:caseload",
        "caseload*",
        "-caseload",
        "caseload AND NOT cover",
        "caseload & !cover | (x:*)",
        "caseload <-> cover",
        "\\x00 \x00 caseload",
        "^caseload + {cover}",
        "caseload " * 1000,
        "x" * 5000,
        "é" * 300,
    ],
)
def test_any_text_is_searched_without_error(client, login_as, world, records, text):
    login_as(world.official)
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200
    assert b'id="search-results"' in response.data


def test_punctuation_alone_finds_nothing_and_says_why(client, login_as, world, records):
    login_as(world.london_rep)
    response = client.get("/search", query_string={"q": "\"'*()!:-"})
    assert response.status_code == 200
    assert b"punctuation alone finds nothing" in response.data


def test_operators_are_plain_words(world, records):
    assert references(world.london_rep, 'caseload" OR "zzz') == []  # "or" and "zzz" must match too
    assert references(world.london_rep, "caseload*") == [records["london_case"].reference]
    assert references(world.london_rep, "title:caseload") == []  # "title" is a word, not a column


def test_long_text_is_cut_to_its_first_words(world, records):
    assert len(search_terms(" ".join(f"w{n}" for n in range(100)))) == MAX_TERMS
    results = search(world.london_rep, "caseload " + "cover " * 100 + "x" * 500)
    assert results.hits and results.was_shortened


def test_the_page_lists_reference_type_and_title_with_links(client, login_as, world, records):
    login_as(world.london_rep)
    response = client.get("/search", query_string={"q": "caseload"})
    page = response.get_data(as_text=True)
    case = records["london_case"]
    assert f'href="/cases/{case.reference}"' in page and ">Case<" in page and case.title in page
    assert records["wales_case"].reference not in page


def test_the_search_box_is_on_every_signed_in_page(client, login_as, world):
    login_as(world.london_rep)
    for url in ("/", "/cases/", "/notices/", "/evidence/"):
        assert b'id="nav-search-q"' in client.get(url).data
    client.post("/logout", data={})


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/search?q=caseload")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _before_0016(app) -> str:
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config()
    return str(ScriptDirectory.from_config(config).get_revision("0016").down_revision)


def test_the_migration_indexes_records_that_were_there_before_it(app, world, records):
    expected = records["london_case"].reference, records["briefing"].reference
    official_id = world.official.id
    db.session.remove()  # no transaction of ours may hold a lock the downgrade waits for
    downgrade(revision=_before_0016(app))
    db.session.remove()
    upgrade()
    db.session.remove()
    official = db.session.get(User, official_id)
    assert (references(official, "harbourmaster")[0], references(official, "crisis")[0]) == expected
