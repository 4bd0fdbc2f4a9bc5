"""A PDF with JavaScript or an automatic action is refused where volunteers upload documents: the public sign-up
and « Mon profil » (issue 12, defect 8), on SQLite and PostgreSQL; nothing is saved and the old file stays."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.shared.actor import to_session_user
from core.shared.errors import FormErrors, ValidationError
from core.volunteers.professionals import RegistrationInput, register_professional, replace_document
from db import models as m
from ops.demo_pdf import assemble, text_objects, text_pdf
from tests.factories import NOW, make_professional, make_user
from tests.readers import count

SAFE = text_pdf("Diplôme d'État d'infirmier", ["Délivré à Léa Martin"])


def hostile(object_stream: bool) -> bytes:
    """The same diploma, opening with a script hidden behind an escaped name (/J#61vaScript)."""
    objects = text_objects("Diplôme d'État d'infirmier", ["Délivré à Léa Martin"])
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"
    return assemble([*objects, b"<< /S /J#61vaScript /JS (app.launchURL\\('https://evil.example'\\);) >>"],
                    object_stream=object_stream)


LAYOUTS = pytest.mark.parametrize("object_stream", [False, True], ids=["table", "flux-objets"])
REFUSAL = "est un PDF qui contient du code JavaScript : il est refusé par sécurité."


def registration(diploma: bytes) -> RegistrationInput:
    return RegistrationInput(
        last_name="Martin", first_name="Léa", email="lea.martin@example.org", phone="06 98 76 54 32",
        postal_code="44000", city="Nantes", profession_code="infirmier_de", available_week=True,
        available_from=NOW.date(), consent=True, documents={"identite": ("carte.pdf", SAFE),
                                                             "diplome": ("diplome.pdf", diploma)})


@LAYOUTS
def test_the_sign_up_refuses_a_diploma_with_a_script_and_saves_nothing(uow, object_stream: bool) -> None:
    with pytest.raises(FormErrors) as raised, uow() as session:
        register_professional(session, actor=None, form=registration(hostile(object_stream)), now=NOW)
    message = raised.value.by_field()["document_diplome"]
    assert message.startswith("Diplôme : le fichier « diplome.pdf » " + REFUSAL)
    with uow() as session:
        assert [count(session, model) for model in (m.Professional, m.User, m.Document, m.Outbox)] == [0, 0, 0, 0]


def test_the_sign_up_accepts_the_same_diploma_without_the_script(uow) -> None:
    with uow() as session:
        professional_id = register_professional(session, actor=None, form=registration(SAFE), now=NOW).professional_id
    with uow() as session:
        assert count(session, m.Document, m.Document.professional_id == professional_id) == 2


@LAYOUTS
def test_my_profile_refuses_a_replacement_with_a_script_and_keeps_the_old_file(uow, object_stream: bool) -> None:
    with uow() as session:
        professional = make_professional(session)
        session.add(m.Document(professional_id=professional.id, kind="diplome", filename="ancien.pdf",
                               mime="application/pdf", size=len(SAFE), sha256="0" * 64, content=SAFE,
                               created_at=NOW))
        actor = to_session_user(session, user=make_user(session, "professionnel", professional_id=professional.id,
                                                        email=professional.email))
    with pytest.raises(ValidationError) as raised, uow() as session:
        replace_document(session, actor=actor, kind="diplome", filename="nouveau.pdf",
                         content=hostile(object_stream), now=NOW)
    assert raised.value.field == "document"
    assert raised.value.message.startswith("Diplôme : le fichier « nouveau.pdf » " + REFUSAL)
    with uow() as session:
        kept = session.scalars(sa.select(m.Document).where(m.Document.professional_id == professional.id)).all()
        assert [(document.filename, document.content) for document in kept] == [("ancien.pdf", SAFE)]
