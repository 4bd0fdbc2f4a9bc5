"""Each form field's own check, run again in the page once the field changes after a refused submit (issue 13):
the error under a corrected field goes away before the next submit, a still wrong value gets the new message.

The services stay the judges: they validate the whole form again on submit (duplicates, permissions, rules across
records). These checks reuse core's validators with the field's own name, and a check only speaks for its field:
an error the validator raises about another field (a bad postal code while checking the city) is left to that
field. A field without an entry here passes once it holds something (a choice, a ticked box, a text without
invisible characters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.access.accounts import VACCINATION_CENTRE
from core.places import geo, reference
from core.shared.clock import paris_today
from core.shared.errors import ValidationError
from core.shared.validation import (
    parse_date,
    refuse_invisible,
    validate_adeli,
    validate_count,
    validate_date_range,
    validate_email,
    validate_finess,
    validate_gid,
    validate_phone,
    validate_rpps,
    validate_text,
)
from core.volunteers.documents import check_document

Sibling = Callable[[str], Any]  # the current value of another field of the same row (e.g. "start_date")


@dataclass(frozen=True)
class FieldCheck:
    """`check(value, sibling, field)` raises ValidationError(field, …) while the value is wrong; `watches`: the other
    fields whose change may right this one (a city follows its postal code, an end date its start date)."""

    check: Callable[[Any, Sibling, str], Any]
    watches: tuple[str, ...] = ()


def filled(value: Any, _sibling: Sibling, field: str) -> None:
    if value is None or value is False or value == "" or value == [] or value == ():
        raise ValidationError(field, "Ce champ est à remplir.")
    if isinstance(value, str):
        refuse_invisible(value, field, "Ce champ")


def _text(label: str, max_length: int = 200, *, required: bool = True, multiline: bool = False) -> FieldCheck:
    return FieldCheck(lambda value, _, field: validate_text(value, field, label, max_length=max_length,
                                                            required=required, multiline=multiline))


def _optional_phone(value: Any, _sibling: Sibling, field: str) -> None:
    if (value or "").strip():
        validate_phone(value, field)


def _city(value: Any, sibling: Sibling, field: str) -> None:
    geo.locate(sibling("postal_code") or "", value or None)  # a postal code error is the postal code's own


def _identifier(value: Any, sibling: Sibling, field: str) -> None:
    (validate_gid if sibling("category_code") == VACCINATION_CENTRE else validate_finess)(value, field)


def _id_number(value: Any, sibling: Sibling, field: str) -> None:
    kind = sibling("id_type")
    if kind == "rpps":
        validate_rpps(value, field, confirmed=bool(sibling("rpps_confirmed")))
    elif kind == "adeli":
        validate_adeli(value, field)


def _available_from(value: Any, _sibling: Sibling, field: str) -> None:
    parse_date(value or paris_today(), field, "date de début de disponibilité")


def _available_to(value: Any, sibling: Sibling, field: str) -> None:
    if not value:
        return
    end = parse_date(value, field, "date de fin de disponibilité")
    start = sibling("available_from")
    if start and end < parse_date(start, "available_from", "date de début de disponibilité"):
        raise ValidationError(field, "La fin de disponibilité est antérieure à son début.")
    if end < paris_today():
        raise ValidationError(field, "La fin de disponibilité est déjà passée.")


def _available_week(value: Any, sibling: Sibling, field: str) -> None:
    if not (value or sibling("available_weekend")):
        raise ValidationError(field, "Indiquez au moins une disponibilité : en semaine ou le week-end.")


def _may_vaccinate(value: Any, sibling: Sibling, field: str) -> None:
    profession = sibling("profession_code")
    if value and profession and not reference.is_eligible_vaccination(profession):
        label = reference.profession_labels().get(profession, profession)
        raise ValidationError(field, f"La profession « {label} » n'est pas autorisée à vacciner.")


def _start_date(value: Any, _sibling: Sibling, field: str) -> None:
    parse_date(value, field, "date de début")


def _end_date(value: Any, sibling: Sibling, field: str) -> None:
    start = sibling("start_date") or value  # a missing start is the start's own error
    _, end = validate_date_range(start, value, start_field="start_date", end_field=field)
    if end < paris_today():
        raise ValidationError(field, f"La date de fin ({end:%d/%m/%Y}) est déjà passée.")


def _document(value: Any, _sibling: Sibling, field: str) -> None:
    if not value:
        raise ValidationError(field, "Joignez le fichier.")
    filename, content = value
    check_document(field.removeprefix("document_"), filename, content, field=field)


CHECKS: dict[str, FieldCheck] = {
    "last_name": _text("Nom", 100),
    "first_name": _text("Prénom", 100),
    "email": FieldCheck(lambda value, _, field: validate_email(value, field)),
    "phone": FieldCheck(lambda value, _, field: validate_phone(value, field)),
    "postal_code": FieldCheck(lambda value, _, field: geo.validate_postal_code(value, field)),
    "city": FieldCheck(_city, watches=("postal_code",)),
    "identifier": FieldCheck(_identifier, watches=("category_code",)),
    "establishment_name": _text("Nom de l'établissement"),
    "address": _text("Adresse", 300),
    "id_number": FieldCheck(_id_number, watches=("id_type", "rpps_confirmed")),
    "available_from": FieldCheck(_available_from),
    "available_to": FieldCheck(_available_to, watches=("available_from",)),
    "available_week": FieldCheck(_available_week, watches=("available_weekend",)),
    "volunteer_vaccination": FieldCheck(_may_vaccinate, watches=("profession_code",)),
    "message": _text("Message", 2000, required=False, multiline=True),
    "specialty": _text("Spécialité", 120, required=False),
    # a mission row
    "count": FieldCheck(lambda value, _, field: validate_count(value, field)),
    "start_date": FieldCheck(_start_date),
    "end_date": FieldCheck(_end_date, watches=("start_date",)),
    "vaccination": FieldCheck(_may_vaccinate, watches=("profession_code",)),
    "contact_name": _text("Personne à contacter", required=False),
    "contact_phone": FieldCheck(_optional_phone),
    "document_identite": FieldCheck(_document),
    "document_diplome": FieldCheck(_document),
}
FILLED = FieldCheck(filled)
OPTIONAL_PHONE = FieldCheck(_optional_phone)


def recheck(check: FieldCheck, field: str, value: Any, sibling: Sibling) -> str | None:
    """The field's error message for this value, or None when the field is right (as far as it alone can tell)."""
    try:
        check.check(value, sibling, field)
    except ValidationError as error:
        return error.message if error.field == field else None
    return None
