"""The shared rule on control and invisible characters (core.shared.validation), over generated text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.shared.errors import ValidationError
from core.shared.validation import (
    refused_character,
    search_text,
    validate_email,
    validate_text,
    without_invisible,
)


def _stored_safely(text: str) -> bool:
    """What PostgreSQL and every export can hold: no control but line breaks, no invisible format character but
    the joiners and emoji tags."""
    return all(
        char == "\n" or unicodedata.category(char) not in {"Cc", "Cs"} for char in text
    ) and all(unicodedata.category(char) != "Cf" or char in "\u200c\u200d" or "\U000e0020" <= char <= "\U000e007f"
              for char in text)


@given(st.text(max_size=60), st.booleans())
def test_validated_text_is_refused_or_safe_to_store(text: str, multiline: bool) -> None:
    try:
        result = validate_text(text, "name", "Nom", required=False, multiline=multiline)
    except ValidationError as error:
        assert error.field == "name" and "« Nom »" in error.message
        assert refused_character(text) is not None or len(text.strip()) > 200
        return
    assert result is None or (_stored_safely(result) and ("\n" not in result or multiline))
    assert result is None or result == result.strip()


@given(st.text(max_size=60))
def test_a_search_never_holds_a_refused_character(text: str) -> None:
    cleaned = search_text(text)
    assert refused_character(cleaned) is None and "\x00" not in cleaned and len(cleaned) <= 200


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\u00ad", "\u061c", "\u200b", "\u200e", "\u202a",
                                  "\u202e", "\u2060", "\u2066", "\u2069", "\ufeff", "\ud800"])
def test_each_invisible_character_is_found_inside_ascii_and_accented_text(char: str) -> None:
    assert refused_character(f"Dupont{char}") == char
    assert refused_character(f"Hélène{char}Brûlé") == char
    assert without_invisible(f"Hél{char}ène") == "Hélène"


@pytest.mark.parametrize("text", ["Zoé 😀", "👩\u200d⚕\ufe0f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063"
                                  "\U000e0074\U000e007f", "Nguyễn", "Ωμέγα", "علي", "עברית", "O’Brien", "a\tb\nc\rd"])
def test_printable_text_joiners_emoji_tags_and_white_space_pass(text: str) -> None:
    assert refused_character(text) is None


def test_a_zero_width_space_in_an_email_gets_the_invisible_character_message() -> None:
    with pytest.raises(ValidationError) as error:
        validate_email("claire\u200b@example.org")
    assert error.value.field == "email"
    assert "« Adresse électronique »" in error.value.message and "U+200B" in error.value.message
