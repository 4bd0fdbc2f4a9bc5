"""Phone numbers (E.164, mainland and overseas) and the RPPS / ADELI identifiers of IDENTIFIERS.md."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.shared.errors import ValidationError
from core.shared.validation import (
    OVERSEAS_PREFIXES,
    NeedsConfirmation,
    format_phone,
    validate_adeli,
    validate_phone,
    validate_rpps,
)
from tests.factories import with_luhn_key


def wrong_key(number: str, shift: int = 1) -> str:
    return number[:-1] + str((int(number[-1]) + shift) % 10)


def spaced(national: str) -> str:
    return " ".join(national[i:i + 2] for i in range(0, 10, 2))


VALID_RPPS = with_luhn_key("1000345678")  # 10003456786
BAD_KEY_RPPS = wrong_key(VALID_RPPS)

# ---------------------------------------------------------------- phone numbers


@pytest.mark.parametrize("written", [
    "06 12 34 56 78", "0612345678", "06.12.34.56.78", "06-12-34-56-78", "06/12/34/56/78", " 06 12 34 56 78 ",
    "+33 6 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "(06) 12 34 56 78",
])
def test_a_mainland_mobile_written_any_usual_way_is_normalised_to_e164(written: str) -> None:
    assert validate_phone(written) == "+33612345678"


def test_a_mainland_landline_keeps_its_area_digit() -> None:
    assert validate_phone("02 40 08 33 33") == "+33240083333"
    assert validate_phone("09 70 00 00 00") == "+33970000000"


@pytest.mark.parametrize(("written", "e164"), [
    ("0590 12 34 56", "+590590123456"),  # Guadeloupe, landline
    ("0690 12 34 56", "+590690123456"),  # Guadeloupe / Saint-Martin / Saint-Barthélemy, mobile
    ("0596 12 34 56", "+596596123456"),  # Martinique
    ("0696 12 34 56", "+596696123456"),
    ("0594 12 34 56", "+594594123456"),  # Guyane
    ("0694 12 34 56", "+594694123456"),
    ("0262 12 34 56", "+262262123456"),  # La Réunion
    ("0692 12 34 56", "+262692123456"),
    ("0639 12 34 56", "+262639123456"),  # Mayotte
    ("0269 12 34 56", "+262269123456"),
    ("0508 41 23 45", "+508508412345"),  # Saint-Pierre-et-Miquelon
])
def test_an_overseas_number_dialled_nationally_gets_its_own_country_code(written: str, e164: str) -> None:
    assert validate_phone(written) == e164


@pytest.mark.parametrize("written", ["+590 690 12 34 56", "00590690123456", "+590 (0)690 12 34 56"])
def test_an_overseas_number_written_internationally_is_kept_with_its_code(written: str) -> None:
    assert validate_phone(written) == "+590690123456"


@pytest.mark.parametrize("empty", ["", "   ", None, " - . "])
def test_a_missing_phone_number_is_required(empty: str | None) -> None:
    with pytest.raises(ValidationError) as error:
        validate_phone(empty)
    assert error.value.field == "phone"
    assert error.value.message == "Le numéro de téléphone est obligatoire."


@pytest.mark.parametrize("bad", [
    "12345", "061234567", "06123456789", "0012345", "00 12 34 56 78", "6 12 34 56 78", "33612345678",
    "+44 20 7946 0958", "+1 212 555 0100", "+33 0 12 34", "+33 06 12 34 56 789", "06 12 34 56 7a", "tel",
    "+", "+33",
])
def test_a_number_that_is_not_french_is_refused_with_examples(bad: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_phone(bad)
    assert error.value.field == "phone"
    assert f"« {bad.strip()} » n'est pas un numéro français valide" in error.value.message
    assert "06 12 34 56 78" in error.value.message  # an example of what is expected


def test_the_phone_error_names_the_field_it_is_given() -> None:
    with pytest.raises(ValidationError) as error:
        validate_phone("123", field="contact_phone")
    assert error.value.field == "contact_phone"


def test_format_phone_shows_the_number_as_french_users_read_it() -> None:
    assert format_phone("+33612345678") == "06 12 34 56 78"
    assert format_phone("+590690123456") == "06 90 12 34 56"
    assert format_phone("+262639123456") == "06 39 12 34 56"


@pytest.mark.parametrize("nothing", [None, ""])
def test_format_phone_of_nothing_is_an_empty_text(nothing: str | None) -> None:
    assert format_phone(nothing) == ""


@given(st.from_regex(r"0[67][0-9]{8}", fullmatch=True))
def test_any_national_mobile_normalises_to_plus_33_and_reads_back(national: str) -> None:
    assume(national[1:4] not in OVERSEAS_PREFIXES)  # 0690…, 0639…: overseas mobiles (tested above)
    e164 = validate_phone(national)
    assert e164 == "+33" + national[1:]
    assert format_phone(e164) == spaced(national)
    assert validate_phone(format_phone(e164)) == e164  # what the page shows can be typed back


@given(st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True), st.sampled_from([" ", ".", "-", ""]))
def test_any_national_number_reads_back_the_same_whatever_its_separators(national: str, separator: str) -> None:
    e164 = validate_phone(separator.join(national[i:i + 2] for i in range(0, 10, 2)))
    assert re.fullmatch(r"\+(33|590|596|594|262|508)[1-9][0-9]{8}", e164)
    assert format_phone(e164) == spaced(national)


@given(st.text(max_size=20))
def test_validate_phone_either_returns_e164_or_names_the_field(text: str) -> None:
    try:
        result = validate_phone(text)
    except ValidationError as error:
        assert error.field == "phone" and error.message
    else:
        assert re.fullmatch(r"\+(33|590|596|594|262|508)[1-9][0-9]{8}", result)


# ---------------------------------------------------------------- RPPS


def test_an_rpps_with_its_luhn_key_is_accepted() -> None:
    assert validate_rpps(VALID_RPPS) == VALID_RPPS


def test_an_rpps_is_trimmed_of_spaces_and_of_an_excel_decimal() -> None:
    assert validate_rpps(" 100 0345 6786 ") == VALID_RPPS
    assert validate_rpps(f"{VALID_RPPS}.0") == VALID_RPPS


def test_the_twelve_digit_national_identifier_8_plus_rpps_is_stripped_to_the_rpps() -> None:
    assert validate_rpps("8" + VALID_RPPS) == VALID_RPPS


def test_a_wrong_rpps_key_asks_for_confirmation_on_the_id_number_field() -> None:
    with pytest.raises(NeedsConfirmation) as error:
        validate_rpps(BAD_KEY_RPPS)
    assert isinstance(error.value, ValidationError)  # collected with the other field errors
    assert error.value.field == "id_number"
    assert f"La clé du numéro RPPS « {BAD_KEY_RPPS} » ne correspond pas" in error.value.message
    assert "cochez « Je confirme ce numéro »" in error.value.message


def test_a_confirmed_rpps_is_accepted_despite_its_key() -> None:
    assert validate_rpps(BAD_KEY_RPPS, confirmed=True) == BAD_KEY_RPPS


def test_an_8_prefixed_rpps_with_a_wrong_key_names_the_stripped_number() -> None:
    with pytest.raises(NeedsConfirmation) as error:
        validate_rpps("8" + BAD_KEY_RPPS)
    assert f"« {BAD_KEY_RPPS} »" in error.value.message
    assert validate_rpps("8" + BAD_KEY_RPPS, confirmed=True) == BAD_KEY_RPPS


def test_an_empty_identifier_is_required_with_its_way_out() -> None:
    for validate in (validate_rpps, validate_adeli):
        with pytest.raises(ValidationError, match="est obligatoire .ou choisissez « Je n'en ai pas »."):
            validate("  ")


@pytest.mark.parametrize("bad", [
    "1000345678", "100034567860", "20003456786", "00003456786", "1000345678a", "RPPS", "9" + VALID_RPPS,
    "8" + "2" * 11,
])
def test_a_malformed_rpps_is_refused_even_when_confirmed(bad: str) -> None:
    for confirmed in (False, True):
        with pytest.raises(ValidationError) as error:
            validate_rpps(bad, confirmed=confirmed)
        assert not isinstance(error.value, NeedsConfirmation)
        assert error.value.field == "id_number"
        assert "doit compter 11 chiffres et commencer par 1" in error.value.message


def test_the_rpps_error_names_the_field_it_is_given() -> None:
    with pytest.raises(NeedsConfirmation) as error:
        validate_rpps(BAD_KEY_RPPS, field="rpps")
    assert error.value.field == "rpps"


@given(st.from_regex(r"1[0-9]{9}", fullmatch=True))
def test_any_rpps_completed_with_its_key_is_accepted_with_or_without_the_8_prefix(base: str) -> None:
    rpps = with_luhn_key(base)
    assert validate_rpps(rpps) == rpps
    assert validate_rpps("8" + rpps) == rpps


@given(st.from_regex(r"1[0-9]{9}", fullmatch=True), st.integers(1, 9))
def test_any_changed_rpps_key_asks_for_confirmation_but_never_blocks(base: str, shift: int) -> None:
    changed = wrong_key(with_luhn_key(base), shift)
    with pytest.raises(NeedsConfirmation):
        validate_rpps(changed)
    assert validate_rpps(changed, confirmed=True) == changed


# ---------------------------------------------------------------- ADELI


@pytest.mark.parametrize(("written", "adeli"), [
    ("441234567", "441234567"), (" 44 12 345 67 ", "441234567"), ("2a1234567", "2A1234567"),
    ("2B0000012", "2B0000012"), ("971234567", "971234567"), ("441234567.0", "441234567"),
])
def test_an_adeli_number_is_checked_on_format_only(written: str, adeli: str) -> None:
    assert validate_adeli(written) == adeli


@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_any_nine_digit_adeli_is_accepted_whatever_its_key(number: str) -> None:
    assert validate_adeli(number) == number


@pytest.mark.parametrize("bad", ["44123456", "4412345678", "2C1234567", "A41234567", "44123456X", "ADELI"])
def test_a_malformed_adeli_is_refused_with_the_expected_format(bad: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_adeli(bad)
    assert error.value.field == "id_number"
    assert "doit compter 9 caractères (chiffres, 2A/2B pour la Corse)" in error.value.message
