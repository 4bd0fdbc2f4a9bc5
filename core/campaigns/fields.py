"""The five fixed tabs of a dossier, their fields, the campaign's default mandatory fields and documents, each tab's
input and its checks, and what a dossier still lacks (pure functions: no session, no actor).

The tabs are those of the source tool: Identification (the recruiting establishment and its partner care structure),
Partenariat, Activité hospitalière, Structure de soins, Candidat. A tab saved with blanks is kept (the dossier stays
« Incomplet »); what is typed is checked on its format whatever the campaign requires (FINESS key, SIRET/SIREN key,
e-mail, postal code, RPPS, dates, percentages).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, ClassVar

from core.shared.errors import ErrorCollector, ValidationError
from core.shared.validation import (
    compact,
    luhn_ok,
    parse_date,
    validate_email,
    validate_finess,
    validate_rpps,
    validate_text,
)

IDENTIFICATION, PARTNERSHIP, HOSPITAL, CARE, CANDIDATE = (
    "identification", "partenariat", "activite_hospitaliere", "structure_de_soins", "candidat")
TABS = {IDENTIFICATION: "Identification", PARTNERSHIP: "Partenariat", HOSPITAL: "Activité hospitalière",
        CARE: "Structure de soins", CANDIDATE: "Candidat"}
DOCUMENTS_TAB = "Pièces justificatives"

TEXT, LONG_TEXT, POSTAL_CODE, FINESS, SIRET, EMAIL, PERCENT, STATUS, RPPS, DATE = (
    "text", "long_text", "postal_code", "finess", "siret", "email", "percent", "status", "rpps", "date")
LONG_TEXT_MAX = 4000


@dataclass(frozen=True)
class FieldSpec:
    tab: str
    label: str
    kind: str = TEXT
    max_length: int = 200


FIELDS: dict[str, FieldSpec] = {
    "hospital_name": FieldSpec(IDENTIFICATION, "Nom de l'établissement recruteur"),
    "hospital_type": FieldSpec(IDENTIFICATION, "Type de l'établissement recruteur", max_length=120),
    "hospital_address": FieldSpec(IDENTIFICATION, "Adresse de l'établissement recruteur", max_length=300),
    "hospital_postal_code": FieldSpec(IDENTIFICATION, "Code postal de l'établissement recruteur", POSTAL_CODE),
    "hospital_city": FieldSpec(IDENTIFICATION, "Commune de l'établissement recruteur", max_length=80),
    "hospital_finess": FieldSpec(IDENTIFICATION, "FINESS de l'établissement recruteur", FINESS),
    "hospital_siret": FieldSpec(IDENTIFICATION, "SIRET/SIREN de l'établissement recruteur", SIRET),
    "hospital_director": FieldSpec(IDENTIFICATION, "Directeur de l'établissement recruteur"),
    "hospital_email": FieldSpec(IDENTIFICATION, "Courriel du bureau des affaires médicales", EMAIL, 254),
    "partner_name": FieldSpec(IDENTIFICATION, "Nom de la structure de soins partenaire"),
    "partner_type": FieldSpec(IDENTIFICATION, "Type de la structure de soins partenaire", max_length=120),
    "partner_address": FieldSpec(IDENTIFICATION, "Adresse de la structure de soins partenaire", max_length=300),
    "partner_postal_code": FieldSpec(IDENTIFICATION, "Code postal de la structure de soins partenaire", POSTAL_CODE),
    "partner_city": FieldSpec(IDENTIFICATION, "Commune de la structure de soins partenaire", max_length=80),
    "partner_finess": FieldSpec(IDENTIFICATION, "FINESS de la structure de soins partenaire", FINESS),
    "partner_siret": FieldSpec(IDENTIFICATION, "SIRET/SIREN de la structure de soins partenaire", SIRET),
    "partner_director": FieldSpec(IDENTIFICATION, "Responsable de la structure de soins partenaire"),
    "partner_email": FieldSpec(IDENTIFICATION, "Courriel de la structure de soins partenaire", EMAIL, 254),
    "partnership_nature": FieldSpec(PARTNERSHIP, "Nature du projet médical partagé", LONG_TEXT, LONG_TEXT_MAX),
    "priority_territory": FieldSpec(PARTNERSHIP, "Territoire prioritaire concerné"),
    "hospital_service": FieldSpec(HOSPITAL, "Service hospitalier d'accueil"),
    "hospital_activity": FieldSpec(HOSPITAL, "Activité hospitalière proposée", LONG_TEXT, LONG_TEXT_MAX),
    "hospital_time_share": FieldSpec(HOSPITAL, "Part du temps à l'hôpital (%)", PERCENT),
    "care_activity": FieldSpec(CARE, "Activité ambulatoire proposée", LONG_TEXT, LONG_TEXT_MAX),
    "care_time_share": FieldSpec(CARE, "Part du temps en structure de soins (%)", PERCENT),
    "candidate_last_name": FieldSpec(CANDIDATE, "Nom du candidat", max_length=100),
    "candidate_first_name": FieldSpec(CANDIDATE, "Prénom du candidat", max_length=100),
    "candidate_email": FieldSpec(CANDIDATE, "Courriel du candidat", EMAIL, 254),
    "candidate_status": FieldSpec(CANDIDATE, "Statut du candidat", STATUS),
    "candidate_rpps": FieldSpec(CANDIDATE, "N° RPPS du candidat", RPPS),
    "candidate_registration_on": FieldSpec(CANDIDATE, "Date prévue d'inscription à l'Ordre", DATE),
}
# What the ARS may make mandatory: every field, except that the RPPS number and the planned registration date are
# one requirement (the candidate has either).
REGISTRATION = "candidate_registration"
REGISTRATION_LABEL = "N° RPPS ou date prévue d'inscription à l'Ordre"
REQUIRABLE: dict[str, tuple[str, str]] = {  # name → (tab, label)
    **{name: (spec.tab, spec.label) for name, spec in FIELDS.items()
       if name not in ("candidate_rpps", "candidate_registration_on")},
    REGISTRATION: (CANDIDATE, REGISTRATION_LABEL),
}
# Always mandatory, whatever the ARS ticks: the results are e-mailed to both partners and every list names them and
# the candidate.
ALWAYS_REQUIRED = ("hospital_name", "hospital_email", "partner_name", "partner_email", "candidate_last_name",
                   "candidate_first_name")
OPTIONAL_BY_DEFAULT = ("partner_finess", "candidate_email", "priority_territory", "hospital_time_share",
                       "care_time_share")
DEFAULT_REQUIRED_FIELDS = tuple(name for name in REQUIRABLE if name not in OPTIONAL_BY_DEFAULT)

CANDIDATE_STATUSES = {
    "interne": "Interne en médecine générale", "docteur_junior": "Docteur junior",
    "jeune_diplome": "Médecin généraliste récemment diplômé", "remplacant": "Médecin remplaçant",
    "installe": "Médecin généraliste installé", "autre": "Autre statut",
}
DEFAULT_DOCUMENTS = (
    {"code": "cv", "label": "CV du candidat"},
    {"code": "lettre_motivation", "label": "Lettre de motivation du candidat"},
    {"code": "lettre_engagement", "label": "Lettre d'engagement sur le projet ville/hôpital"},
    {"code": "attestation_ordre", "label": "Attestation d'inscription à l'Ordre et n° RPPS ou date d'inscription prévue"},
)
COMMITMENTS = {
    "exactitude": "Je certifie l'exactitude des informations saisies et des pièces justificatives déposées.",
    "partenaires": "L'établissement recruteur et la structure de soins partenaire s'engagent sur le projet médical "
                   "partagé décrit dans ce dossier.",
    "ordre": "Le candidat est inscrit à l'Ordre des médecins, ou le sera à la date indiquée.",
    "delai": "J'ai noté que tout dossier incomplet ou non confirmé à la date de clôture ne sera pas traité.",
}


def field_choices() -> dict[str, dict[str, str]]:
    """What « Créer un appel à candidatures » offers to make mandatory: tab label → {field name: label}; the fields
    that are always mandatory are left out (ALWAYS_REQUIRED)."""
    found: dict[str, dict[str, str]] = {label: {} for label in TABS.values()}
    for name, (tab, label) in REQUIRABLE.items():
        if name not in ALWAYS_REQUIRED:
            found[TABS[tab]][name] = label
    return found


def document_code(label: str, taken: set[str]) -> str:
    """A stable code for a document the ARS adds (« Projet de service » → projet_de_service)."""
    for default in DEFAULT_DOCUMENTS:
        if default["label"].casefold() == label.casefold():
            return default["code"]
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_label).strip("_")[:36] or "piece"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


# ---------------------------------------------------------------- the tabs' inputs


@dataclass(frozen=True)
class Identification:
    TAB: ClassVar[str] = IDENTIFICATION
    hospital_name: str = ""
    hospital_type: str = ""
    hospital_address: str = ""
    hospital_postal_code: str = ""
    hospital_city: str = ""
    hospital_finess: str = ""
    hospital_siret: str = ""
    hospital_director: str = ""
    hospital_email: str = ""
    partner_name: str = ""
    partner_type: str = ""
    partner_address: str = ""
    partner_postal_code: str = ""
    partner_city: str = ""
    partner_finess: str = ""
    partner_siret: str = ""
    partner_director: str = ""
    partner_email: str = ""


@dataclass(frozen=True)
class Partnership:
    TAB: ClassVar[str] = PARTNERSHIP
    partnership_nature: str = ""
    priority_territory: str = ""


@dataclass(frozen=True)
class HospitalActivity:
    TAB: ClassVar[str] = HOSPITAL
    hospital_service: str = ""
    hospital_activity: str = ""
    hospital_time_share: int | str | None = None


@dataclass(frozen=True)
class CareStructure:
    TAB: ClassVar[str] = CARE
    care_activity: str = ""
    care_time_share: int | str | None = None


@dataclass(frozen=True)
class Candidate:
    TAB: ClassVar[str] = CANDIDATE
    candidate_last_name: str = ""
    candidate_first_name: str = ""
    candidate_email: str = ""
    candidate_status: str = ""
    candidate_rpps: str = ""
    candidate_registration_on: date | str | None = None
    rpps_confirmed: bool = False  # « Je confirme ce numéro » when its key does not match


TabInput = Identification | Partnership | HospitalActivity | CareStructure | Candidate
TAB_INPUTS: dict[str, type] = {cls.TAB: cls for cls in (Identification, Partnership, HospitalActivity, CareStructure,
                                                         Candidate)}


def tab_columns(tab: str) -> list[str]:
    return [name for name, spec in FIELDS.items() if spec.tab == tab]


def tab_input(dossier: Any, tab: str) -> TabInput:
    """A tab's input filled with the dossier's saved values (to prefill its form)."""
    cls = TAB_INPUTS[tab]
    values = {}
    for item in fields(cls):
        if item.name in FIELDS:
            value = getattr(dossier, item.name)
            values[item.name] = "" if value is None and FIELDS[item.name].kind not in (PERCENT, DATE) else value
    return cls(**values)


# ---------------------------------------------------------------- checks


def validate_siret(value: Any, field: str, label: str) -> str:
    """A SIRET (14 digits) or a SIREN (9 digits), Luhn key checked (La Poste's numbers excepted, which have none)."""
    number = compact(value)
    if not re.fullmatch(r"\d{9}|\d{14}", number):
        raise ValidationError(field, f"Le champ « {label} » (« {number} ») doit compter 14 chiffres (SIRET) ou 9 "
                                     "chiffres (SIREN).")
    if not luhn_ok(number) and not number.startswith("356000000"):
        raise ValidationError(field, f"Le numéro « {number} » ({label}) est invalide : sa clé de contrôle ne "
                                     "correspond pas. Vérifiez la saisie.")
    return number


def _percent(value: Any, field: str, label: str) -> int:
    text = str(value).strip().removesuffix("%").strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) > 100:
        raise ValidationError(field, f"Le champ « {label} » est un pourcentage entier entre 0 et 100.")
    return int(text)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean(name: str, value: Any, rpps_confirmed: bool) -> Any:
    spec = FIELDS[name]
    if _blank(value):
        return None
    if spec.kind in (TEXT, LONG_TEXT):
        return validate_text(value, name, spec.label, max_length=spec.max_length, required=False,
                             multiline=spec.kind == LONG_TEXT)
    if spec.kind == POSTAL_CODE:
        code = compact(value)
        if not re.fullmatch(r"\d{5}", code):
            raise ValidationError(name, f"Le champ « {spec.label} » (« {code} ») doit compter 5 chiffres.")
        return code
    if spec.kind == FINESS:
        return validate_finess(value, name)
    if spec.kind == SIRET:
        return validate_siret(value, name, spec.label)
    if spec.kind == EMAIL:
        return validate_email(value, name)
    if spec.kind == PERCENT:
        return _percent(value, name, spec.label)
    if spec.kind == STATUS:
        if value not in CANDIDATE_STATUSES:
            raise ValidationError(name, "Choisissez le statut du candidat dans la liste.")
        return value
    if spec.kind == RPPS:
        return validate_rpps(value, name, confirmed=rpps_confirmed)
    return parse_date(value, name, spec.label.lower())


def clean_tab(tab: TabInput) -> dict[str, Any]:
    """The tab's values checked on their format (blanks allowed: completeness is separate); all errors at once. The
    Identification tab needs both partners' names and e-mails to be saved: the dossier is known by them."""
    errors = ErrorCollector()
    confirmed = bool(getattr(tab, "rpps_confirmed", False))
    values = {name: errors.check(_clean, name, getattr(tab, name), confirmed) for name in tab_columns(tab.TAB)}
    if tab.TAB == IDENTIFICATION:
        for name in ("hospital_name", "hospital_email", "partner_name", "partner_email"):
            if values[name] is None and not errors.has(name):
                errors.add(name, f"Le champ « {FIELDS[name].label} » est obligatoire pour enregistrer l'onglet "
                                 "Identification.")
    if tab.TAB == CANDIDATE and values["candidate_rpps"] and values["candidate_registration_on"]:
        errors.add("candidate_registration_on", "Le candidat a déjà un n° RPPS : laissez vide la date prévue "
                                                "d'inscription à l'Ordre.")
    errors.raise_if_any()
    return values


def check_time_shares(hospital: int | None, care: int | None, field: str) -> None:
    if hospital is not None and care is not None and hospital + care > 100:
        raise ValidationError(field, f"Les parts de temps à l'hôpital ({hospital} %) et en structure de soins "
                                     f"({care} %) dépassent 100 %.")


# ---------------------------------------------------------------- completeness


def _present(dossier: Any, name: str) -> bool:
    if name == REGISTRATION:
        return bool(dossier.candidate_rpps) or dossier.candidate_registration_on is not None
    value = getattr(dossier, name)
    return value is not None and value != ""


def missing_items(dossier: Any, required_fields: list[str], required_documents: list[dict[str, str]],
                  attached_kinds: set[str]) -> dict[str, list[str]]:
    """What the dossier still lacks, in French, by tab (then « Pièces justificatives »); empty when complete."""
    wanted = list(dict.fromkeys([*ALWAYS_REQUIRED, *required_fields]))
    found: dict[str, list[str]] = {}
    for name, (tab, label) in REQUIRABLE.items():
        if name in wanted and not _present(dossier, name):
            found.setdefault(TABS[tab], []).append(label)
    documents = [d["label"] for d in required_documents if d["code"] not in attached_kinds]
    if documents:
        found[DOCUMENTS_TAB] = documents
    return found


def missing_sentence(missing: dict[str, list[str]]) -> str:
    """« Candidat : Nom du candidat ; Pièces justificatives : CV du candidat »."""
    return " ; ".join(f"{tab} : {', '.join(labels)}" for tab, labels in missing.items())
