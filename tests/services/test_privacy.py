"""GDPR lifecycle (issue 12): a volunteer downloads all their data; `purge --before DATE` anonymises the
volunteers inactive since DATE, never one with a live proposal; statistics and audit stay."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest

from core.shared.actor import COMMAND_LINE, to_session_user
from core.shared.errors import PermissionDenied, ValidationError
from core.volunteers.privacy import my_data_archive, purge_inactive
from db import models as m
from ops.cli import main as cli
from tests.factories import (
    NOW,
    TODAY,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_proposal,
    make_user,
)
from tests.readers import count, events

LONG_AGO = NOW - timedelta(days=400)


def _volunteer(session, *, active_at=LONG_AGO, **overrides):  # noqa: ANN001, ANN003, ANN202
    nurse = make_available_nurse(session, created_at=LONG_AGO, availability_confirmed_at=active_at, **overrides)
    user = make_user(session, "professionnel", professional_id=nurse.id, email=nurse.email)
    return nurse, user


def _mission(session):  # noqa: ANN001, ANN202
    establishment = make_establishment(session)
    return make_mission(session, establishment, make_user(session, establishment=establishment))


def test_the_volunteer_downloads_every_piece_of_their_data_with_the_documents(uow) -> None:
    with uow() as session:
        nurse, user = _volunteer(session, first_name="Zoé", message="Disponible les nuits.")
        session.add(m.Document(professional_id=nurse.id, kind="diplome", filename="diplome.pdf", mime="application/pdf",
                               size=8, sha256="0" * 64, content=b"%PDF-1.4"))
        make_proposal(session, _mission(session), nurse, state="refuse", created_at=NOW - timedelta(days=3))
        content = my_data_archive(session, actor=to_session_user(session, user=user), now=NOW)
        archive = zipfile.ZipFile(io.BytesIO(content))
        data = json.loads(archive.read("mes-donnees.json"))
        assert (data["profil"]["first_name"], data["profil"]["message"], data["compte"]["courriel"]) == \
            ("Zoé", "Disponible les nuits.", nurse.email)
        assert [s["etat"] for s in data["sollicitations"]] == ["Refusé"]
        [document] = data["justificatifs"]
        assert archive.read(document["fichier"]) == b"%PDF-1.4"
        assert [e.entity_id for e in events(session, "data_exported")] == [str(nurse.id)]


@pytest.mark.parametrize("role", ["etablissement", "ars", "ccs", "ministere", "admin"])
def test_only_the_volunteer_downloads_their_data(uow, role: str) -> None:
    with uow() as session:
        with pytest.raises(PermissionDenied):
            my_data_archive(session, actor=make_actor(session, role), now=NOW)
        assert events(session, "data_exported") == []


def test_the_purge_anonymises_the_inactive_and_keeps_the_active_and_the_busy(uow) -> None:
    with uow() as session:
        inactive, inactive_user = _volunteer(session)
        signed_in_lately, user = _volunteer(session)
        user.last_login_at = NOW - timedelta(days=10)
        solicited_lately, _ = _volunteer(session)
        make_proposal(session, _mission(session), solicited_lately, state="refuse", created_at=NOW - timedelta(days=5))
        confirmed_lately, _ = _volunteer(session, active_at=NOW - timedelta(days=20))
        busy, _ = _volunteer(session, status="contacte")
        make_proposal(session, _mission(session), busy, state="contacte", created_at=LONG_AGO)

        cutoff = TODAY - timedelta(days=180)
        dry = purge_inactive(session, actor=COMMAND_LINE, before=cutoff, dry_run=True, now=NOW)
        assert (dry.inactive, dry.kept_live, dry.purged) == (2, 1, 0) and inactive.status == "disponible"
        assert "seraient anonymisés : 1" in str(dry)

        report = purge_inactive(session, actor=COMMAND_LINE, before=cutoff, now=NOW)
        assert (report.inactive, report.kept_live, report.purged) == (2, 1, 1)
        assert (inactive.status, inactive.last_name, inactive.phone) == ("supprime", "supprimé", "")
        assert inactive.department_code == "44" and inactive.profession_code == "infirmier_de"  # statistics stay
        assert inactive_user.password_hash is None and inactive_user.status == "disabled"
        assert [p.status for p in (signed_in_lately, solicited_lately, confirmed_lately, busy)] == \
            ["disponible", "disponible", "disponible", "contacte"]
        assert [(e.entity_id, e.actor_user_id) for e in events(session, "purged")] == [(str(inactive.id), None)]
        assert count(session, m.Event, m.Event.action == "purge") == 1


def test_a_purge_date_in_the_future_is_refused_and_only_admins_or_the_operator_purge(uow) -> None:
    with uow() as session:
        with pytest.raises(ValidationError, match="dans le futur"):
            purge_inactive(session, actor=COMMAND_LINE, before=TODAY + timedelta(days=1), now=NOW)
        for role in ("ccs", "ars", "ministere", "professionnel"):
            with pytest.raises(PermissionDenied):
                purge_inactive(session, actor=make_actor(session, role), before=TODAY, now=NOW)


def test_the_purge_command_counts_then_anonymises(db_url, capsys) -> None:
    from db.session import session_scope

    with session_scope(db_url) as session:
        nurse, _ = _volunteer(session)
        nurse_id = nurse.id
    assert cli(["purge", "--db", db_url, "--before", "01/01/2026", "--dry-run"]) == 0
    assert "seraient anonymisés : 1." in capsys.readouterr().out
    assert cli(["purge", "--db", db_url, "--before", "2026-01-01"]) == 0
    assert "anonymisés : 1." in capsys.readouterr().out
    with session_scope(db_url, read_only=True) as session:
        assert session.get(m.Professional, nurse_id).status == "supprime"
    assert cli(["purge", "--db", db_url, "--before", "2999-01-01"]) == 1
    assert "dans le futur" in capsys.readouterr().err
