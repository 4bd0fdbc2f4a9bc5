"""Text typed by users, shown through Markdown exactly as typed.

Streamlit renders Markdown in st.markdown, st.caption, st.write(str), the bodies of st.info / st.success /
st.warning / st.error / st.toast, headings, every cell of st.table, widget labels and help tooltips, the
labels of buttons, expanders, popovers and tabs, and radio options. A name, a city, a message, a file name
or a French message of core that quotes one goes through `md()` before it is put into such a string: a
volunteer named `![x](https://evil.example/p.png)` must not make the reader's browser load an image, nor an
establishment named `[Valider ici](https://evil.example/login)` show a link. Our own Markdown around the
value (bold, line breaks, badges) is kept.

Not needed (they show plain text): st.dataframe cells, selectbox / multiselect options, st.text, st.code,
text inputs' values, and the pydeck tooltip (Streamlit escapes its HTML values — checked in Chromium).
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"  # invisible, zero width
# CommonMark shows a backslash-escaped ASCII punctuation character as itself. Escaped wherever they are:
# the characters that open inline syntax — links and images ([ ]), emphasis (* _ ~), code (`), HTML and
# autolinks (< >), LaTeX ($), GFM tables (|), the backslash itself. Brackets escaped, `!` and `(` `)` can no
# longer make an image or a link (nor `:red[…]`, `:blue-badge[…]` a colour or a badge), so French text keeps
# its parentheses and the page reads « CHU de Nantes (démo) » in tests as in the browser.
_INLINE = re.compile(r"([\\`*_~\[\]<>$|])")
# Only where they start something: a colon touching a word may open or close a shortcode (:rocket:,
# :material/icon:), one between spaces cannot (« Motif : … » is left alone); an entity (&amp;, &#91;) would
# otherwise show as the character it names.
_SHORTCODE = re.compile(r"(?<=\S):|:(?=\S)")
_ENTITY = re.compile(r"&(?=#?\w+;)")
# Streamlit turns ":material/" into an icon's name before parsing, escapes or not: its slash is escaped.
_ICON = re.compile(r"(?i)(?<=material)/")
# Block syntax starts a line: a heading (#), a quote (>), a list (- + * or 1. 1)), a setext underline (= -).
_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])")
# GFM turns bare addresses into links *after* parsing, escapes or not (seen in Chromium): a word joiner after
# "http:" / "https:" or "www" breaks the pattern, and shows nothing. E-mail addresses stay links (mailto:,
# harmless, and useful on the contact details of a sheet).
_AUTOLINK = re.compile(r"(?i)https?:(?=//)|www(?=\.)")
# Likewise ":streamlit:" becomes Streamlit's logo after parsing: a word joiner after its first colon.
_LOGO = re.compile(r":(?=streamlit:)")


def _line(text: str) -> str:
    text = _AUTOLINK.sub(lambda found: found.group(0) + WORD_JOINER, text)
    text = _LOGO.sub(":" + WORD_JOINER, text)
    text = _INLINE.sub(r"\\\1", text)
    text = _SHORTCODE.sub(r"\\:", text)
    text = _ENTITY.sub(r"\\&", text)
    text = _ICON.sub(r"\\/", text)
    # The marker's last character escaped is enough: « 12\. » is no list, « \# » no heading.
    return _LINE_START.sub(lambda found: found.group(1) + found.group(2)[:-1] + "\\" + found.group(2)[-1], text)


def md(text: object) -> str:
    """`text` escaped for any Markdown-rendering element; each of its lines stays a line. None gives ''."""
    if text is None:
        return ""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(_line(line) for line in lines)
