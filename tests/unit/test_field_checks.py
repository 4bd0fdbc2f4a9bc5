"""The re-check of one field (ui.field_checks): core's validators, and only the field's own errors count."""

from __future__ import annotations

from datetime import timedelta

from core.shared.clock import paris_today
from ui.field_checks import CHECKS, FILLED, OPTIONAL_PHONE, recheck


def _check(name: str, value, **siblings) -> str | None:  # noqa: ANN001
    return recheck(CHECKS.get(name, FILLED), name, value, siblings.get)


def test_a_city_is_right_when_it_belongs_to_the_postal_code_and_a_bad_postal_code_is_not_its_fault() -> None:
    assert _check("city", "NANTES", postal_code="44000") is None
    assert _check("city", "RENNES", postal_code="44000").startswith("La ville « RENNES » ne correspond pas")
    assert _check("city", "NANTES", postal_code="4400") is None  # the postal code's own error, shown under it


def test_an_rpps_with_a_wrong_key_is_right_once_confirmed_and_no_number_is_needed_without_one() -> None:
    assert _check("id_number", "10000000010", id_type="rpps").startswith("La clé du numéro RPPS")
    assert _check("id_number", "10000000010", id_type="rpps", rpps_confirmed=True) is None
    assert _check("id_number", "", id_type="none") is None


def test_an_end_date_follows_its_start_date() -> None:
    today = paris_today()
    assert _check("end_date", today + timedelta(days=5), start_date=today + timedelta(days=9)).startswith(
        "La date de fin")
    assert _check("end_date", today + timedelta(days=5), start_date=today) is None


def test_a_field_without_its_own_check_is_right_once_filled_and_an_optional_phone_may_stay_empty() -> None:
    assert _check("category_code", None) is not None
    assert _check("category_code", "loi_hospitaliere") is None
    assert _check("consent", True) is None
    assert recheck(OPTIONAL_PHONE, "phone", "", {}.get) is None
    assert recheck(OPTIONAL_PHONE, "phone", "12", {}.get).startswith("Le numéro de téléphone « 12 »")
