"""The demo documents are well-formed PDFs: every cross-reference offset points at its object."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from core.volunteers.documents import detect_type
from ops.demo_pdf import text_pdf

# Text a WinAnsi font can draw, parentheses and backslashes included (they must be escaped).
WIN_ANSI_TEXT = st.text(alphabet=st.characters(codec="cp1252", exclude_categories=("Cc", "Cs")), max_size=60)


def _offsets(pdf: bytes) -> list[int]:
    table = pdf[pdf.rindex(b"\nxref\n"):]
    return [int(offset) for offset in re.findall(rb"(\d{10}) 00000 n", table)]


@given(title=WIN_ANSI_TEXT, lines=st.lists(WIN_ANSI_TEXT, max_size=5))
def test_every_offset_of_the_cross_reference_table_points_at_its_object(title: str, lines: list[str]) -> None:
    pdf = text_pdf(title, lines)
    assert detect_type(pdf) == ("application/pdf", "pdf")
    offsets = _offsets(pdf)
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj\n".encode())
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[startxref:].startswith(b"xref\n")


def test_the_stream_length_is_exact_and_accents_are_in_win_ansi() -> None:
    pdf = text_pdf("Diplôme d'État (démo)", ["Léa Martin \\ test"])
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))
    stream = pdf.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")
    assert "(Diplôme d'État \\(démo\\))".encode("cp1252") in pdf
    assert "(Léa Martin \\\\ test)".encode("cp1252") in pdf
