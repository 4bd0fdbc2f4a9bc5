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
import string

WORD_JOINER = "\u2060"  # invisible, zero width
# CommonMark: any ASCII punctuation character may be backslash-escaped and is then shown as itself. All of
# them, rather than a chosen few: links, images, emphasis, headings, lists, tables, HTML and entities (&),
# Streamlit's directives (:red[…], :blue-badge[…], :material/…:, emoji :…:) and LaTeX ($) all start with one.
_ESCAPED = str.maketrans({character: "\\" + character for character in string.punctuation})
# GFM also turns bare addresses into links *after* parsing, escapes or not (seen in Chromium): a word joiner
# after "http:" / "https:" or "www" breaks the pattern, and shows nothing. E-mail addresses stay links
# (mailto:, harmless, and useful on the contact details of a sheet).
_AUTOLINK = re.compile(r"(?i)https?:(?=//)|www(?=\.)")


def md(text: object) -> str:
    """`text` escaped for any Markdown-rendering element; each of its lines stays a line. None gives ''."""
    if text is None:
        return ""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(_AUTOLINK.sub(lambda found: found.group(0) + WORD_JOINER, line).translate(_ESCAPED)
                       for line in lines)
