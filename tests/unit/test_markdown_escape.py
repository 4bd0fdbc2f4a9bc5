"""ui.markdown.md: text typed by a user reads as typed wherever Streamlit renders Markdown — never a link, an
image, a heading, a list, a colour, a badge, an icon, a formula or HTML.

Rendering Markdown needs a browser (tests/e2e/test_markdown_injection_e2e.py); here, CommonMark's rule is
checked on the text: every ASCII punctuation character arrives backslash-escaped, which any CommonMark
renderer shows as the bare character, and the word joiner that breaks GFM's automatic links is the only
other change. Removing both gives back exactly what was typed.
"""

from __future__ import annotations

import re
import string

import pytest

from ui.markdown import WORD_JOINER, md

ATTACKS = [
    "[Valider ici](https://evil.example/login)",
    "![x](https://evil.example/p.png)",
    '<img src="https://evil.example/h.png">',
    "<script>alert(1)</script>",
    "https://evil.example/auto",
    "HTTP://evil.example",
    "www.evil.example",
    "<https://evil.example/angle>",
    "[x]: https://evil.example/ref",
    "\\[y](https://evil.example/bs)",
    ":red[rouge] :blue-badge[VÉRIFIÉ]",
    ":material/warning: :rocket:",
    "$x^2$",
    "# Titre",
    "- liste",
    "1. liste",
    "> citation",
    "**gras** _italique_ ~~barré~~ `code`",
    "&lt;b&gt; &amp; &#91;",
    "a|b",
    "***",
    "===",
]


ESCAPE_PAIR = r"\\[!-/:-@\[-`{-~]"  # a backslash and one ASCII punctuation character


def _unescaped(text: str) -> str:
    """What a CommonMark renderer shows of `text`: each backslash escape gives its character (and the hard
    line breaks of md() give newlines)."""
    text = text.replace("  \n", "\n")
    return re.sub(ESCAPE_PAIR, lambda pair: pair.group(0)[1], text)


def _shown(text: str) -> str:
    return _unescaped(md(text)).replace(WORD_JOINER, "")


@pytest.mark.parametrize("typed", ATTACKS)
def test_a_markdown_or_html_attack_reads_as_typed(typed: str) -> None:
    assert _shown(typed) == typed


@pytest.mark.parametrize("typed", ATTACKS)
def test_no_punctuation_is_left_for_markdown_to_interpret(typed: str) -> None:
    # Once every escape pair (a backslash and the character it escapes) is taken out, nothing is left for
    # Markdown to read as syntax: not one punctuation character, not one bare backslash.
    left = re.sub(ESCAPE_PAIR, "", md(typed))
    assert not set(left) & set(string.punctuation), left


def test_a_link_or_an_image_loses_its_syntax() -> None:
    assert "](" not in md("[Valider ici](https://evil.example/login)")
    assert "![" not in md("![x](https://evil.example/p.png)")
    assert md("[Valider ici](https://evil.example/login)").startswith(r"\[Valider ici\]\(")


@pytest.mark.parametrize("typed", ["https://evil.example/login", "voir HTTP://evil.example.", "www.evil.example"])
def test_a_bare_address_is_not_turned_into_a_link(typed: str) -> None:
    # GFM links bare addresses after parsing, escapes or not: a word joiner (invisible) breaks the pattern.
    escaped = md(typed)
    assert not re.search(r"(?i)https?\\?:\\?/", escaped)
    assert not re.search(r"(?i)www\\?\.", escaped)
    assert WORD_JOINER in escaped


def test_accents_spaces_and_french_punctuation_are_untouched() -> None:
    typed = "Hôpital Saint-Éloi — « Les Mûriers » ; n° 2 à 5 % près"
    assert _shown(typed) == typed
    for word in ("Hôpital", "Saint", "Éloi", "—", "« Les Mûriers »", "n°"):
        assert word in md(typed)


def test_each_line_of_a_message_stays_a_line() -> None:
    typed = "Bonjour,\r\n# disponible le week-end\n- infirmière de nuit\rMerci"
    escaped = md(typed)
    assert escaped.split("  \n") == [r"Bonjour\,", r"\# disponible le week\-end", r"\- infirmière de nuit", "Merci"]
    assert _shown(typed) == "Bonjour,\n# disponible le week-end\n- infirmière de nuit\nMerci"


def test_nothing_and_numbers() -> None:
    assert md(None) == ""
    assert md("") == ""
    assert md(44000) == "44000"
    assert md("Dupont") == "Dupont"
