"""ui.markdown.md: text typed by a user reads as typed wherever Streamlit renders Markdown — never a link, an
image, a heading, a list, a colour, a badge, an icon, a formula or HTML — and French text is left as it is.

Rendering Markdown needs a browser (tests/e2e/test_markdown_injection_e2e.py, and the inputs tried there are
listed in docs/securite.md); here, CommonMark's rule is checked on the text: a backslash-escaped ASCII
punctuation character is shown as itself, so removing the escapes (and the invisible word joiners that break
GFM's automatic links) gives back exactly what was typed, and what is left unescaped opens no syntax.
"""

from __future__ import annotations

import re

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
    "Titre\n---",
    "+ liste",
    "12) liste",
    "~barré~ et x_y_z",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    ":streamlit: :gray-background[x]",
    "cd:smile: 12:30",
    ":material/warning:",
]


ESCAPE_PAIR = r"\\[!-/:-@\[-`{-~]"  # a backslash and one ASCII punctuation character
# What may open Markdown or Streamlit syntax once the escape pairs are taken out: inline characters anywhere, a
# block marker at a line's start, a colon touching a word (:rocket:, :material/…:, :red[…]), an entity, a bare
# address GFM would link, Streamlit's logo.
LIVE = re.compile(r"[\\`*_~\[\]<>$|]|^\s*([#>+\-=]|\d+[.)])|\S:|:\S|&#?\w+;|(?i:https?://|www\.)|material/",
                  re.MULTILINE)


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
def test_nothing_is_left_for_markdown_to_interpret(typed: str) -> None:
    # The escape pairs taken out (a word joiner stays where it breaks a pattern), nothing opens any syntax.
    left = re.sub(ESCAPE_PAIR, "x", md(typed).replace("  \n", "\n"))
    assert not LIVE.search(left), (typed, left)


def test_a_link_or_an_image_loses_its_syntax() -> None:
    assert md("[Valider ici](https://evil.example/login)") == f"\\[Valider ici\\](https\\:{WORD_JOINER}//evil.example/login)"
    assert md("![x](https://evil.example/p.png)").startswith("!\\[x\\](")


@pytest.mark.parametrize("typed", ["https://evil.example/login", "voir HTTP://evil.example.", "www.evil.example"])
def test_a_bare_address_is_not_turned_into_a_link(typed: str) -> None:
    # GFM links bare addresses after parsing, escapes or not: a word joiner (invisible) breaks the pattern.
    escaped = md(typed)
    assert not re.search(r"(?i)https?\\?:/|www\.", escaped)
    assert WORD_JOINER in escaped


@pytest.mark.parametrize("typed", [
    "Hôpital Saint-Éloi — « Les Mûriers » ; n° 2 à 5 % près (démo)",
    "Motif : l'ARS n'a pas reçu le diplôme. Merci !",
    "CHU de Nantes (démo), 1 place Alexis-Ricordeau, 44000 NANTES",
    "marie.dupont@chu-nantes.fr — 06 12 34 56 78 — +33 6 12 34 56 78",
])
def test_french_text_addresses_and_contacts_are_left_as_they_are(typed: str) -> None:
    assert md(typed) == typed


def test_each_line_of_a_message_stays_a_line() -> None:
    typed = "Bonjour,\r\n# disponible le week-end\n- infirmière de nuit\r2. Merci"
    escaped = md(typed)
    assert escaped.split("  \n") == ["Bonjour,", r"\# disponible le week-end", r"\- infirmière de nuit", r"2\. Merci"]
    assert _shown(typed) == "Bonjour,\n# disponible le week-end\n- infirmière de nuit\n2. Merci"


def test_nothing_and_numbers() -> None:
    assert md(None) == ""
    assert md("") == ""
    assert md(44000) == "44000"
