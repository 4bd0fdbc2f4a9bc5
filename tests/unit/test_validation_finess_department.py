"""A FINESS of another department than the postal code's is flagged for the ARS, never refused (issue 13)."""

from __future__ import annotations

import pytest

from core.shared.validation import finess_department_mismatch


@pytest.mark.parametrize(("finess", "department"), [
    ("440000289", "44"), ("010000024", "01"), ("970100012", "971"), ("970100012", "974"), ("2A0000012", "2A"),
    ("200000012", "2B"),
])
def test_a_finess_of_the_postal_codes_department_raises_no_warning(finess: str, department: str) -> None:
    assert finess_department_mismatch(finess, department) is None


def test_a_finess_of_another_department_is_flagged_with_both_numbers() -> None:
    assert finess_department_mismatch("750100125", "44") == (
        "Le numéro FINESS commence par 75, le code postal est dans le département 44 : vérifiez qu'il s'agit bien "
        "de cet établissement (certains sont immatriculés dans un autre département).")
    assert finess_department_mismatch("440000289", "971") is not None
    assert finess_department_mismatch("2A0000012", "2B") is not None
