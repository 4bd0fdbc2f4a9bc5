"""Input checks: real examples from IDENTIFIERS.md and properties over generated inputs."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.places import geo
from core.shared.errors import ValidationError
from core.shared.validation import (
    password_checks,
    refused_character,
    validate_count,
    validate_date_range,
    validate_email,
    validate_finess,
    validate_gid,
    validate_password,
    validate_text,
)
from tests.factories import with_luhn_key

REAL_FINESS = ["750100125", "750712184", "010000024", "010780054", "130780521", "690783154", "970100012"]


@pytest.mark.parametrize("finess", REAL_FINESS)
def test_real_finess_numbers_are_accepted(finess: str) -> None:
    assert validate_finess(finess) == finess


def test_finess_is_trimmed_and_upper_cased() -> None:
    assert validate_finess("  75 010 0125 ") == "750100125"
    assert validate_finess("2a1234567") == "2A1234567"


def test_a_finess_with_a_wrong_key_names_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        validate_finess("750100126")
    assert error.value.field == "finess"
    assert "clé de contrôle" in error.value.message


def test_a_finess_that_lost_its_leading_zero_is_reported_with_the_correction() -> None:
    with pytest.raises(ValidationError) as error:
        validate_finess("10000024")
    assert error.value.suggestion == "010000024"
    assert "zéro initial" in error.value.message


def test_an_excel_float_finess_is_understood() -> None:
    assert validate_finess("750100125.0") == "750100125"


@pytest.mark.parametrize("bad", ["", "12345", "7501001250", "75A100125", "1A1234567", "ABCDEFGHI", "000000000"])
def test_malformed_finess_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        validate_finess(bad)


def test_corsican_finess_are_checked_on_format_only() -> None:
    assert validate_finess("2B0000012") == "2B0000012"
    with pytest.raises(ValidationError):
        validate_finess("2C0000012")


@given(st.from_regex(r"(0[1-9]|[1-8][0-9]|9[0-5])[0-9]{6}", fullmatch=True))
def test_any_number_completed_with_its_luhn_key_is_a_valid_finess(base: str) -> None:
    assert validate_finess(with_luhn_key(base)) == with_luhn_key(base)


@given(st.from_regex(r"(0[1-9]|[1-8][0-9]|9[0-5])[0-9]{6}", fullmatch=True), st.integers(1, 9))
def test_changing_the_key_digit_always_breaks_a_finess(base: str, shift: int) -> None:
    valid = with_luhn_key(base)
    wrong = valid[:-1] + str((int(valid[-1]) + shift) % 10)
    with pytest.raises(ValidationError):
        validate_finess(wrong)


@given(st.text(max_size=12))
def test_validate_finess_either_returns_nine_characters_or_raises(text: str) -> None:
    try:
        result = validate_finess(text)
    except ValidationError as error:
        assert error.field == "finess" and error.message
    else:
        assert len(result) == 9


@pytest.mark.parametrize("gid", ["1", "123456", "1234567890", " 42 "])
def test_gid_is_digits_only_up_to_ten(gid: str) -> None:
    assert validate_gid(gid) == gid.strip()


@pytest.mark.parametrize("bad", ["", "12345678901", "12a4", "-12"])
def test_bad_gid_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        validate_gid(bad)


def test_email_is_normalised_to_lower_case() -> None:
    assert validate_email("  Claire.Moreau@CHU-Nantes.FR ") == "claire.moreau@chu-nantes.fr"


@pytest.mark.parametrize("bad", ["", "claire", "claire@", "@chu.fr", "claire moreau@chu.fr", "claire@@chu.fr"])
def test_bad_emails_are_refused_with_the_field_named(bad: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_email(bad)
    assert error.value.field == "email"


@given(st.emails())
def test_generated_emails_come_back_lower_case(email: str) -> None:
    # hypothesis can produce addresses email-validator rightly rejects (e.g. reserved TLDs)
    with contextlib.suppress(ValidationError):
        assert validate_email(email) == validate_email(email).lower()


def test_postal_codes_must_exist() -> None:
    assert geo.validate_postal_code(" 44000 ") == "44000"
    assert geo.validate_postal_code("20000") == "20000"  # Ajaccio, Corse-du-Sud
    with pytest.raises(ValidationError, match="n'existe pas"):
        geo.validate_postal_code("44999")


def test_a_postal_code_that_lost_its_zero_is_reported() -> None:
    with pytest.raises(ValidationError) as error:
        geo.validate_postal_code("1000")
    assert error.value.suggestion == "01000"


def test_saint_pierre_et_miquelon_is_refused_with_an_explanation() -> None:
    with pytest.raises(ValidationError, match="Saint-Pierre-et-Miquelon"):
        geo.validate_postal_code("97500")


def test_saint_martin_and_saint_barthelemy_are_accepted() -> None:
    assert geo.validate_postal_code("97150") == "97150"
    assert geo.validate_postal_code("97133") == "97133"


def test_password_rules_are_listed_one_by_one() -> None:
    checks = dict(password_checks("abc"))
    assert checks["une lettre minuscule"] is True
    assert checks["une lettre majuscule"] is False
    assert validate_password("Renfort-Demo-2026!") == "Renfort-Demo-2026!"


@pytest.mark.parametrize("bad", ["Court-1!", "sansmajuscule-2026!", "SANSMINUSCULE-2026!", "Sans-Chiffre-Ici!", "SansSpecial2026abc"])
def test_weak_passwords_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_password(bad)
    assert error.value.field == "password"


def test_a_password_over_72_bytes_is_refused() -> None:
    with pytest.raises(ValidationError, match="trop long"):
        validate_password("Éé1!" + "é" * 40)


@given(st.text(min_size=0, max_size=30))
def test_a_password_is_accepted_exactly_when_every_rule_holds(password: str) -> None:
    all_ok = (all(ok for _, ok in password_checks(password)) and len(password.encode()) <= 72
              and refused_character(password) is None)  # control and invisible characters are never typed
    try:
        validate_password(password)
        assert all_ok
    except ValidationError:
        assert not all_ok


def test_date_range_accepts_french_and_iso_text() -> None:
    assert validate_date_range("01/12/2026", "2026-12-31") == (date(2026, 12, 1), date(2026, 12, 31))


def test_end_before_start_names_the_end_field() -> None:
    with pytest.raises(ValidationError) as error:
        validate_date_range(date(2026, 12, 2), date(2026, 12, 1))
    assert error.value.field == "end_date"
    assert "antérieure" in error.value.message


@given(st.dates(), st.integers(-400, 400))
def test_date_ranges_are_valid_exactly_when_ordered(start: date, days: int) -> None:
    try:
        end = start + timedelta(days=days)
    except OverflowError:
        return
    try:
        assert validate_date_range(start, end) == (start, end)
        assert days >= 0
    except ValidationError:
        assert days < 0


@pytest.mark.parametrize("value,expected", [(0, 0), ("3", 3), (" 12 ", 12)])
def test_counts(value: object, expected: int) -> None:
    assert validate_count(value) == expected


@pytest.mark.parametrize("bad", [-1, "-2", "deux", 1.5, None, True, 10_000])
def test_negative_or_non_integer_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as error:
        validate_count(bad)
    assert error.value.field == "count"


def test_text_is_trimmed_and_required() -> None:
    assert validate_text("  Centre   hospitalier  ", "name", "Nom") == "Centre hospitalier"
    with pytest.raises(ValidationError, match="« Nom » est obligatoire"):
        validate_text("   ", "name", "Nom")


def test_an_overseas_mobile_has_one_form_however_it_is_written() -> None:
    from core.shared.validation import validate_phone

    assert validate_phone("0690 12 34 56") == validate_phone("+33 6 90 12 34 56") == "+590690123456"


@pytest.mark.parametrize("bad", ["+262 6 12 34 56 78", "+590 6 12 34 56 78"])
def test_a_country_code_must_match_the_number_prefix(bad: str) -> None:
    from core.shared.validation import validate_phone

    with pytest.raises(ValidationError):
        validate_phone(bad)


def test_adeli_letters_are_only_for_corsica() -> None:
    from core.shared.validation import validate_adeli

    assert validate_adeli("2A1234567") == "2A1234567"
    with pytest.raises(ValidationError):
        validate_adeli("1A1234567")
