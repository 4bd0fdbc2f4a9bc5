"""The five tabs of an application dossier: what each field accepts and what a dossier still lacks (pure rules)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.campaigns import fields
from core.shared.errors import FormErrors, ValidationError
from tests.factories import VALID, complete_values


def _dossier(**overrides) -> SimpleNamespace:  # noqa: ANN003
    return SimpleNamespace(**{**complete_values(), **overrides})


def test_a_siret_or_a_siren_is_accepted_with_its_key_and_la_postes_without() -> None:
    assert fields.validate_siret(" 267 500 000 000 18 ", "f", "SIRET") == VALID["hospital_siret"]
    assert fields.validate_siret("800000002", "f", "SIREN") == "800000002"
    assert fields.validate_siret("35600000000048", "f", "SIRET") == "35600000000048"  # La Poste: no key rule
    with pytest.raises(ValidationError, match="clé de contrôle"):
        fields.validate_siret("26750000000019", "f", "SIRET")
    with pytest.raises(ValidationError, match="14 chiffres"):
        fields.validate_siret("1234", "f", "SIRET")


def test_a_complete_dossier_lacks_nothing_and_an_empty_one_lacks_each_mandatory_item_by_tab() -> None:
    documents = list(fields.DEFAULT_DOCUMENTS)
    kinds = {d["code"] for d in documents}
    assert fields.missing_items(_dossier(), list(fields.DEFAULT_REQUIRED_FIELDS), documents, kinds) == {}
    empty = _dossier(**dict.fromkeys(complete_values(), None))
    missing = fields.missing_items(empty, [], documents, set())  # the ARS ticked nothing: the fixed ones remain
    assert list(missing) == ["Identification", "Candidat", "Pièces justificatives"]
    assert missing["Identification"] == ["Nom de l'établissement recruteur",
                                         "Courriel du bureau des affaires médicales",
                                         "Nom de la structure de soins partenaire",
                                         "Courriel de la structure de soins partenaire"]
    assert fields.missing_sentence({"Candidat": ["Nom du candidat"], "Pièces justificatives": ["CV du candidat"]}) == (
        "Candidat : Nom du candidat ; Pièces justificatives : CV du candidat")


def test_a_planned_registration_date_stands_for_the_rpps_number() -> None:
    required = [fields.REGISTRATION]
    assert fields.missing_items(_dossier(candidate_rpps=None, candidate_registration_on="2027-01-01"), required, [],
                                set()) == {}
    assert fields.missing_items(_dossier(candidate_rpps=None), required, [], set()) == {
        "Candidat": ["N° RPPS ou date prévue d'inscription à l'Ordre"]}
    with pytest.raises(FormErrors) as error:
        fields.clean_tab(fields.Candidate(candidate_rpps=VALID["candidate_rpps"],
                                          candidate_registration_on="01/01/2027"))
    assert list(error.value.by_field()) == ["candidate_registration_on"]


def test_the_ars_chooses_among_the_fields_that_are_not_always_mandatory() -> None:
    choices = fields.field_choices()
    assert list(choices) == list(fields.TABS.values())
    offered = {name for tab in choices.values() for name in tab}
    assert not offered & set(fields.ALWAYS_REQUIRED) and fields.REGISTRATION in offered
    assert "candidate_rpps" not in offered  # one requirement with the planned date


def test_a_document_the_ars_adds_gets_a_readable_code_of_its_own() -> None:
    assert fields.document_code("CV du candidat", set()) == "cv"
    assert fields.document_code("Projet de service (version signée)", set()) == "projet_de_service_version_signee"
    assert fields.document_code("Fiche de poste", {"fiche_de_poste"}) == "fiche_de_poste_2"


def test_a_tab_is_prefilled_from_the_saved_dossier() -> None:
    tab = fields.tab_input(_dossier(care_time_share=None, care_activity=None), fields.CARE)
    assert tab == fields.CareStructure(care_activity="", care_time_share=None)
