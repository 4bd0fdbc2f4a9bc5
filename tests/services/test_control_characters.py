"""Control and invisible characters in every text input (issue 12, defect 3), on SQLite and PostgreSQL.

A NUL byte reached PostgreSQL (`DataError: PostgreSQL text fields cannot contain NUL`) and the user got an
English error page, from forms that need no account. Now the shared validation refuses control characters
(newline and tab are white space: kept in multi-line fields, turned into a space elsewhere), invisible format
characters and the controls that reverse the writing direction, with a French message naming the field; search
fields drop them; an uploaded file's name has them replaced. Each entry point is tried with NUL and BEL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access import administration as admin
from core.access.accounts import (
    BAD_CREDENTIALS,
    AccountRequest,
    activate,
    authenticate,
    reject_account,
    request_establishment_account,
    request_password_reset,
)
from core.access.establishment_import import REJECTED, TO_CREATE, import_establishments, rejected_rows_xlsx
from core.access.tokens import issue_token
from core.figures.journal import JournalFilters, export_journal, journal
from core.mail import emails
from core.mail.outbox import list_outbox, queue_email
from core.shared.actor import SessionUser, to_session_user
from core.shared.audit import record_event
from core.shared.errors import FormErrors, ValidationError
from core.staffing import regulation, workflow
from core.staffing.matching import CandidateFilters, find_candidates
from core.staffing.missions import MissionInput, create_missions, mission_input, update_mission
from core.volunteers.professionals import (
    AvailabilityInput,
    RegistrationInput,
    register_professional,
    replace_document,
    update_professional,
)
from db import models as m
from tests.factories import (
    END,
    NOW,
    PASSWORD,
    START,
    import_row,
    import_workbook,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_professional,
    make_proposal,
    make_user,
    with_luhn_key,
    workbook_bytes,
)
from tests.readers import count

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
RPPS = with_luhn_key("1000345678")
CONTROLS = pytest.mark.parametrize("char", ["\x00", "\x07"], ids=["NUL", "BEL"])
WRITTEN = (m.User, m.Establishment, m.Mission, m.Professional, m.Document, m.Proposal, m.Outbox, m.Event, m.Token)


def inject(text: str, char: str) -> str:
    """The character slipped inside the value (where a paste would leave it), not at an end a trim would drop."""
    return text[:2] + char + text[2:]


def code_of(char: str) -> str:
    return f"U+{ord(char):04X}"


# ---------------------------------------------------------------- the world every entry point acts in


@dataclass
class World:
    establishment_id: int
    establishment: SessionUser
    ars: SessionUser
    ccs: SessionUser
    admin: SessionUser
    volunteer: SessionUser
    volunteer_id: int
    mission_id: int  # open, nothing assigned
    alerted_mission_id: int  # open, alert waiting for the CCS
    assigned_mission_id: int
    assigned_id: int  # volunteer assigned to assigned_mission_id
    available_id: int  # an available volunteer of the region
    pending_user_id: int  # an account request awaiting the ARS


def build_world(session: so.Session) -> World:
    establishment = make_establishment(session, "44000", name="CHU de Nantes")
    manager = make_user(session, establishment=establishment, last_name="Dupont", email="dupont@chu-test.fr")
    mission = make_mission(session, establishment, manager, start_date=START, end_date=END, specialty="Gériatrie")
    record_event(session, actor_id=manager.id, entity="mission", entity_id=mission.id, action="created", at=NOW)
    alerted = make_mission(session, establishment, manager, start_date=START, end_date=END, ccs_alert_at=NOW,
                           ccs_alert_message="Besoin urgent")
    assigned_mission = make_mission(session, establishment, manager, start_date=START, end_date=END, count=2)
    assigned = make_professional(session, "44000", status="affecte")
    make_proposal(session, assigned_mission, assigned, state="affecte")
    professional = make_available_nurse(session, "44000", last_name="Moreau", first_name="Claire",
                                        specialty="Urgences", message="Disponible le soir")
    account = make_user(session, "professionnel", professional_id=professional.id, email=professional.email)
    available = make_available_nurse(session, "44300")
    pending_place = make_establishment(session, "44000", status="pending")
    pending = make_user(session, establishment=pending_place, status="pending", password=None)
    queue_email(session, dedup_key="search-me", to="claire.moreau@example.org", now=NOW,
                content=emails.password_link("Claire", "https://exemple.invalid/lien"))
    return World(
        establishment_id=establishment.id, establishment=to_session_user(session, user=manager),
        ars=make_actor(session, "ars", ars_code="52"), ccs=make_actor(session, "ccs"),
        admin=make_actor(session, "admin"), volunteer=to_session_user(session, user=account),
        volunteer_id=professional.id, mission_id=mission.id, alerted_mission_id=alerted.id,
        assigned_mission_id=assigned_mission.id, assigned_id=assigned.id, available_id=available.id,
        pending_user_id=pending.id,
    )


@pytest.fixture
def world(uow) -> World:
    with uow() as session:
        return build_world(session)


def written(session: so.Session) -> dict[str, int]:
    return {model.__name__: count(session, model) for model in WRITTEN}


# ---------------------------------------------------------------- every form and action that takes text


def account_request(**overrides: Any) -> AccountRequest:
    mission = overrides.pop("mission", {})
    values = dict(
        last_name="Moreau", first_name="Claire", email="claire.moreau@chu-test.fr", phone="06 12 34 56 78",
        category_code="loi_hospitaliere", identifier="750100125", establishment_name="Hôpital de test",
        address="1 place de l'Hôpital", postal_code="44000", city="Nantes", ars_code="52",
        missions=[MissionInput(profession_code="infirmier_de", count=2, start_date=START, end_date=END,
                               **mission)],
    )
    return AccountRequest(**{**values, **overrides})


def registration(**overrides: Any) -> RegistrationInput:
    values: dict[str, Any] = dict(
        last_name="Martin", first_name="Léa", email="lea.martin@example.org", phone="06 98 76 54 32",
        postal_code="44000", city="Nantes", profession_code="infirmier_de", available_week=True,
        available_from=NOW.date(), consent=True, id_type="rpps", id_number=RPPS,
        documents={"identite": ("carte.png", PNG), "diplome": ("diplome.pdf", PDF)},
    )
    return RegistrationInput(**{**values, **overrides})


def profile(**overrides: Any) -> AvailabilityInput:
    values = {f.name: getattr(registration(), f.name) for f in dataclasses.fields(AvailabilityInput)}
    return AvailabilityInput(**{**values, "phone": "06 11 22 33 44", **overrides})


def request_with(field: str, mission: bool = False) -> Callable[[so.Session, World, str], Any]:
    def call(session: so.Session, world: World, value: str) -> Any:
        overrides = {"mission": {field: value}} if mission else {field: value}
        return request_establishment_account(session, actor=None, request=account_request(**overrides), now=NOW)
    return call


def signup_with(field: str) -> Callable[[so.Session, World, str], Any]:
    return lambda session, world, value: register_professional(
        session, actor=None, form=registration(**{field: value}), now=NOW)


def profile_with(field: str) -> Callable[[so.Session, World, str], Any]:
    return lambda session, world, value: update_professional(
        session, actor=world.volunteer, data=profile(**{field: value}), now=NOW)


def new_mission_with(field: str) -> Callable[[so.Session, World, str], Any]:
    return lambda session, world, value: create_missions(
        session, actor=world.establishment, establishment_id=world.establishment_id, now=NOW,
        missions=[MissionInput(profession_code="infirmier_de", count=1, start_date=START, end_date=END,
                               **{field: value})])


def edited_mission_with(field: str) -> Callable[[so.Session, World, str], Any]:
    def call(session: so.Session, world: World, value: str) -> Any:
        data = mission_input(session, actor=world.establishment, mission_id=world.mission_id)
        return update_mission(session, actor=world.establishment, mission_id=world.mission_id, now=NOW,
                              data=dataclasses.replace(data, **{field: value}))
    return call


def new_account_with(field: str) -> Callable[[so.Session, World, str], Any]:
    def call(session: so.Session, world: World, value: str) -> Any:
        account = admin.NewAccount(role="ccs", email="nouveau.ccs@sante.gouv.fr", first_name="Paul",
                                   last_name="Lefèvre", phone="01 40 56 60 00")
        return admin.create_account(session, actor=world.admin, account=dataclasses.replace(account, **{field: value}),
                                    now=NOW)
    return call


def reset_password(session: so.Session, world: World, value: str) -> Any:
    return request_password_reset(session, actor=None, email=value, now=NOW)


def new_password(session: so.Session, world: World, value: str) -> Any:
    user = session.get(m.User, world.volunteer.id)
    token = issue_token(session, user=user, purpose="reset", now=NOW)
    return activate(session, actor=None, token=token, password=value, now=NOW)


@dataclass(frozen=True)
class Entry:
    name: str
    field: str
    label: str  # the field's name in the French message
    good: str
    call: Callable[[so.Session, World, str], Any]


ENTRIES = [
    # « Demande de compte » (public, no account)
    Entry("demande-nom", "last_name", "Nom", "Moreau", request_with("last_name")),
    Entry("demande-prenom", "first_name", "Prénom", "Claire", request_with("first_name")),
    Entry("demande-courriel", "email", "Adresse électronique", "claire.moreau@chu-test.fr", request_with("email")),
    Entry("demande-telephone", "phone", "Téléphone", "06 12 34 56 78", request_with("phone")),
    Entry("demande-finess", "identifier", "Numéro FINESS", "750100125", request_with("identifier")),
    Entry("demande-etablissement", "establishment_name", "Nom de l'établissement", "Hôpital de test",
          request_with("establishment_name")),
    Entry("demande-adresse", "address", "Adresse", "1 place de l'Hôpital", request_with("address")),
    Entry("demande-code-postal", "postal_code", "Code postal", "44000", request_with("postal_code")),
    Entry("demande-ville", "city", "Ville", "Nantes", request_with("city")),
    Entry("demande-specialite", "missions.0.specialty", "Spécialité", "Gériatrie",
          request_with("specialty", mission=True)),
    Entry("demande-contact", "missions.0.contact_name", "Personne à contacter", "Mme Durand",
          request_with("contact_name", mission=True)),
    Entry("demande-contact-telephone", "missions.0.contact_phone", "Téléphone", "02 40 12 34 56",
          request_with("contact_phone", mission=True)),
    # Volunteer sign-up (public, no account)
    Entry("inscription-nom", "last_name", "Nom", "Martin", signup_with("last_name")),
    Entry("inscription-prenom", "first_name", "Prénom", "Léa", signup_with("first_name")),
    Entry("inscription-courriel", "email", "Adresse électronique", "lea.martin@example.org", signup_with("email")),
    Entry("inscription-telephone", "phone", "Téléphone", "06 98 76 54 32", signup_with("phone")),
    Entry("inscription-rpps", "id_number", "Numéro RPPS", RPPS, signup_with("id_number")),
    Entry("inscription-code-postal", "postal_code", "Code postal", "44000", signup_with("postal_code")),
    Entry("inscription-ville", "city", "Ville", "Nantes", signup_with("city")),
    Entry("inscription-specialite", "specialty", "Spécialité", "Pédiatrie", signup_with("specialty")),
    Entry("inscription-message", "message", "Message", "Disponible le week-end", signup_with("message")),
    # « Mon profil »
    Entry("profil-telephone", "phone", "Téléphone", "06 11 22 33 44", profile_with("phone")),
    Entry("profil-ville", "city", "Ville", "Nantes", profile_with("city")),
    Entry("profil-specialite", "specialty", "Spécialité", "Pédiatrie", profile_with("specialty")),
    Entry("profil-message", "message", "Message", "Disponible le week-end", profile_with("message")),
    # « Nouveau besoin » and « Modifier »
    Entry("besoin-specialite", "missions.0.specialty", "Spécialité", "Réanimation", new_mission_with("specialty")),
    Entry("besoin-contact", "missions.0.contact_name", "Personne à contacter", "M. Bernard",
          new_mission_with("contact_name")),
    Entry("besoin-contact-telephone", "missions.0.contact_phone", "Téléphone", "02 40 12 34 56",
          new_mission_with("contact_phone")),
    Entry("modification-specialite", "missions.0.specialty", "Spécialité", "Réanimation",
          edited_mission_with("specialty")),
    Entry("modification-contact", "missions.0.contact_name", "Personne à contacter", "M. Bernard",
          edited_mission_with("contact_name")),
    # ARS and CCS texts
    Entry("refus-demande", "reason", "Motif du refus", "FINESS inconnu de l'ARS",
          lambda session, world, value: reject_account(session, actor=world.ars, user_id=world.pending_user_id,
                                                       reason=value, now=NOW)),
    Entry("alerte-ccs", "message", "Message au CCS", "Aucun candidat dans la région",
          lambda session, world, value: regulation.alert_ccs(session, actor=world.ars, mission_id=world.mission_id,
                                                             message=value, now=NOW)),
    Entry("cloture-alerte", "note", "Note de clôture", "Renfort trouvé en Bretagne",
          lambda session, world, value: regulation.close_alert(session, actor=world.ccs, note=value, now=NOW,
                                                               mission_id=world.alerted_mission_id)),
    Entry("indisponible-ars", "reason", "Motif", "Ne répond plus au téléphone",
          lambda session, world, value: regulation.set_unavailable_by_ars(
              session, actor=world.ars, professional_id=world.available_id, reason=value, now=NOW)),
    Entry("annulation-affectation", "reason", "Motif de l'annulation", "Absence le premier jour",
          lambda session, world, value: workflow.cancel_assignment(
              session, actor=world.establishment, mission_id=world.assigned_mission_id,
              professional_id=world.assigned_id, reason=value, now=NOW)),
    # Account administration
    Entry("compte-nom", "last_name", "Nom", "Lefèvre", new_account_with("last_name")),
    Entry("compte-prenom", "first_name", "Prénom", "Paul", new_account_with("first_name")),
    Entry("compte-courriel", "email", "Adresse électronique", "nouveau.ccs@sante.gouv.fr",
          new_account_with("email")),
    Entry("compte-telephone", "phone", "Téléphone", "01 40 56 60 00", new_account_with("phone")),
    # Passwords (the message never repeats what was typed)
    Entry("mot-de-passe-oublie", "email", "Adresse électronique", "claire.moreau@example.org", reset_password),
    Entry("nouveau-mot-de-passe", "password", "Mot de passe", "Nouveau-Mot-2026!", new_password),
]


def refusal(error: BaseException) -> dict[str, str]:
    if isinstance(error, FormErrors):
        return error.by_field()
    assert isinstance(error, ValidationError), repr(error)
    return {error.field: error.message}


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.name for entry in ENTRIES])
def test_the_clean_value_is_accepted(uow, world: World, entry: Entry) -> None:
    """The harness acts for real: with a clean value, the same call goes through."""
    with uow() as session:
        entry.call(session, world, entry.good)


@CONTROLS
@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.name for entry in ENTRIES])
def test_a_control_character_is_refused_in_french_naming_the_field_and_nothing_is_written(
    uow, world: World, entry: Entry, char: str
) -> None:
    with uow() as session:
        before = written(session)
    with pytest.raises((ValidationError, FormErrors)) as raised, uow() as session:
        entry.call(session, world, inject(entry.good, char))
    errors = refusal(raised.value)
    assert entry.field in errors, errors
    message = errors[entry.field]
    assert f"« {entry.label} »" in message and "caractère" in message and code_of(char) in message, message
    assert inject(entry.good, char) not in message  # never echoes the invisible character
    with uow() as session:
        assert written(session) == before


# ---------------------------------------------------------------- sign-in: the generic refusal, never a crash


@CONTROLS
def test_sign_in_with_a_control_character_in_the_email_gets_the_generic_refusal(uow, world: World, char: str) -> None:
    with uow() as session:
        email = session.get(m.User, world.volunteer.id).email
        outcome = authenticate(session, email=inject(email, char), password=PASSWORD, now=NOW)
    assert (outcome.user, outcome.error) == (None, BAD_CREDENTIALS)
    with uow() as session:
        assert session.get(m.User, world.volunteer.id).failed_logins == 0


@CONTROLS
def test_sign_in_with_a_control_character_in_the_password_is_a_wrong_password(uow, world: World, char: str) -> None:
    with uow() as session:
        email = session.get(m.User, world.volunteer.id).email
        outcome = authenticate(session, email=email, password=inject(PASSWORD, char), now=NOW)
    assert (outcome.user, outcome.error) == (None, BAD_CREDENTIALS)
    with uow() as session:
        assert session.get(m.User, world.volunteer.id).failed_logins == 1


# ---------------------------------------------------------------- invisible characters other than controls


@pytest.mark.parametrize(("char", "words"), [
    ("\u202e", "sens d'écriture"),  # RIGHT-TO-LEFT OVERRIDE: « Martin\u202eeporue » reads otherwise
    ("\u2066", "sens d'écriture"),  # LEFT-TO-RIGHT ISOLATE
    ("\u200b", "invisible"),  # ZERO WIDTH SPACE: two different « Dupont » that look the same
    ("\ufeff", "invisible"),  # BYTE ORDER MARK
    ("\x9b", "contrôle"),  # a C1 control (valid in XML, so possible in a spreadsheet's cell)
], ids=["RLO", "LRI", "ZWSP", "BOM", "CSI"])
@pytest.mark.parametrize("field", ["last_name", "email"])
def test_invisible_and_direction_characters_are_refused_in_names_and_emails(
    uow, world: World, field: str, char: str, words: str
) -> None:
    good = {"last_name": "Martin", "email": "lea.martin@example.org"}[field]
    with pytest.raises(FormErrors) as raised, uow() as session:
        register_professional(session, actor=None, form=registration(**{field: inject(good, char)}), now=NOW)
    message = raised.value.by_field()[field]
    assert words in message and code_of(char) in message, message


@pytest.mark.parametrize(("typed", "kept"), [
    ("  Le   Goff  ", "Le Goff"),  # stray spaces trimmed and collapsed
    ("Nguyễn Thị", "Nguyễn Thị"),  # accents of every alphabet
    ("Zoé 😀", "Zoé 😀"),  # an emoji is printable text
    ("Léa 👩\u200d⚕\ufe0f", "Léa 👩\u200d⚕\ufe0f"),  # … and so is one joined by ZERO WIDTH JOINER
    ("Martin\tDurand", "Martin Durand"),  # a tab pasted from a spreadsheet is white space
    ("O\u2019Brien", "O\u2019Brien"),
])
def test_printable_text_is_kept_and_white_space_tidied(uow, world: World, typed: str, kept: str) -> None:
    with uow() as session:
        registration_id = register_professional(session, actor=None, form=registration(last_name=typed),
                                                now=NOW).professional_id
    with uow() as session:
        assert session.get(m.Professional, registration_id).last_name == kept


def test_a_multi_line_message_keeps_its_lines_and_a_one_line_field_does_not(uow, world: World) -> None:
    message = "Bonjour,\r\n\r\n\r\nDisponible\tle soir.  \nMerci"
    with uow() as session:
        update_professional(session, actor=world.volunteer, now=NOW,
                            data=profile(message=message, specialty="Soins\npalliatifs"))
    with uow() as session:
        professional = session.get(m.Professional, world.volunteer_id)
        assert professional.message == "Bonjour,\n\nDisponible le soir.\nMerci"
        assert professional.specialty == "Soins palliatifs"


def test_a_multi_line_refusal_reason_keeps_its_lines_in_the_email(uow, world: World) -> None:
    with uow() as session:
        reject_account(session, actor=world.ars, user_id=world.pending_user_id, now=NOW,
                       reason="FINESS inconnu.\r\nMerci de refaire la demande <b>complète</b>.")
    with uow() as session:
        mail = session.scalars(sa.select(m.Outbox).order_by(m.Outbox.id.desc())).first()
    assert "FINESS inconnu.\nMerci de refaire la demande <b>complète</b>." in mail.body_text
    assert "FINESS inconnu.<br>Merci de refaire la demande &lt;b&gt;complète&lt;/b&gt;." in mail.body_html


def test_a_ten_thousand_character_name_is_refused_with_the_limit(uow, world: World) -> None:
    with pytest.raises(FormErrors) as raised, uow() as session:
        register_professional(session, actor=None, form=registration(last_name="A" * 10_000), now=NOW)
    assert raised.value.by_field()["last_name"] == "Le champ « Nom » dépasse 100 caractères."


# ---------------------------------------------------------------- uploaded files' names


@CONTROLS
def test_a_control_character_in_an_uploaded_file_name_is_replaced_visibly(uow, world: World, char: str) -> None:
    documents = {"identite": (f"carte{char}.png", PNG), "diplome": (f"dip\u202efdp.exe{char}.pdf", PDF)}
    with uow() as session:
        professional_id = register_professional(session, actor=None, now=NOW,
                                                form=registration(documents=documents)).professional_id
    with uow() as session:
        replace_document(session, actor=world.volunteer, kind="identite", filename=f"nouvelle{char}carte.pdf",
                         content=PDF, now=NOW)
    with uow() as session:
        names = dict(session.execute(sa.select(m.Document.kind, m.Document.filename)
                                     .where(m.Document.professional_id == professional_id)).all())
        replaced = session.scalar(sa.select(m.Document.filename).where(
            m.Document.professional_id == world.volunteer_id))
    assert names == {"identite": "carte_.png", "diplome": "dip_fdp.exe_.pdf"}
    assert replaced == "nouvelle_carte.pdf"


# ---------------------------------------------------------------- searches: the character is dropped, never a crash


@dataclass(frozen=True)
class Search:
    name: str
    typed: str  # finds exactly one row of the world
    run: Callable[[so.Session, World, str], int]  # how many rows the search finds


SEARCHES = [
    Search("boite-d-envoi", "claire.moreau",
           lambda session, world, text: list_outbox(session, actor=world.admin, search=text, now=NOW).total),
    Search("journal", "dupont", lambda session, world, text: journal(
        session, actor=world.ccs, filters=JournalFilters(who=text)).total),
    Search("comptes-nom", "dupont", lambda session, world, text: admin.list_accounts(
        session, actor=world.admin, filters=admin.AccountFilters(text=text), now=NOW).total),
    Search("comptes-etablissement", "chu de nantes", lambda session, world, text: admin.list_accounts(
        session, actor=world.admin, filters=admin.AccountFilters(establishment=text), now=NOW).total),
    Search("etablissements-a-rattacher", "chu de nantes", lambda session, world, text: len(
        admin.search_establishments(session, actor=world.admin, text=text))),
    Search("professionnels-de-la-region", "moreau", lambda session, world, text: regulation.region_professionals(
        session, actor=world.ars, ars_code="52", filters=regulation.ProfessionalFilters(text=text))[1]),
    Search("candidats", "moreau", lambda session, world, text: find_candidates(
        session, actor=world.establishment, mission_id=world.mission_id, filters=CandidateFilters(text=text),
        now=NOW).total),
]


@CONTROLS
@pytest.mark.parametrize("search", SEARCHES, ids=[search.name for search in SEARCHES])
def test_a_search_with_a_control_character_finds_what_the_clean_search_finds(
    uow, world: World, search: Search, char: str
) -> None:
    with uow() as session:
        assert search.run(session, world, search.typed) == 1
        assert search.run(session, world, inject(search.typed, char)) == 1


@CONTROLS
def test_the_journal_export_with_a_control_character_in_who_is_built(uow, world: World, char: str) -> None:
    with uow() as session:
        content = export_journal(session, actor=world.ccs, filters=JournalFilters(who=inject("dupont", char)), now=NOW)
    assert content


# ---------------------------------------------------------------- establishment import: the row is rejected


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\x9b"], ids=["RLO", "ZWSP", "CSI"])
@pytest.mark.parametrize(("column", "label"), [
    ("last_name", "Nom"), ("establishment_name", "Nom de l'établissement"), ("address", "Adresse"),
    ("email", "Adresse électronique"),
])
def test_an_imported_cell_with_an_invisible_character_rejects_its_row_with_the_reason(
    uow, world: World, column: str, label: str, char: str
) -> None:
    """An .xlsx cannot hold C0 controls (XML forbids them); it can hold C1 controls and format characters."""
    bad = import_row(1)
    bad[column] = inject(bad[column], char)
    content = workbook_bytes(import_workbook([bad, import_row(2)]))
    with uow() as session:
        before = count(session, m.Establishment)
        report = import_establishments(session, actor=world.admin, content=content, now=NOW)
    rejected, imported = report.rows
    assert (rejected.outcome, imported.outcome) == (REJECTED, TO_CREATE)
    assert any(f"« {label} »" in reason and code_of(char) in reason for reason in rejected.reasons), rejected.reasons
    assert rejected_rows_xlsx(report)  # the file of rejected rows is still written
    with uow() as session:
        assert count(session, m.Establishment) == before + 1
