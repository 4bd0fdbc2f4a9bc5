"""Small valid one-page PDFs of text: the demo volunteers' documents, which any viewer opens.

`text_objects` gives the objects of such a page and `assemble` writes any list of objects as a PDF — with a
classic cross-reference table, or (PDF 1.5) with its dictionaries packed in a compressed object stream and a
cross-reference stream, as many producers write them. Tests build hostile PDFs from them (an action added to the
catalog, hidden in the object stream) to check the upload refuses them (core.volunteers.documents).
"""

from __future__ import annotations

import zlib


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (the encoding of the standard fonts): accents included."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def stream_object(data: bytes, entries: bytes = b"", *, compress: bool = False) -> bytes:
    """A stream object's body with its exact /Length (FlateDecode when `compress`)."""
    if compress:
        data, entries = zlib.compress(data), entries + b" /Filter /FlateDecode"
    return b"<< /Length " + str(len(data)).encode() + entries + b" >>\nstream\n" + data + b"\nendstream"


def text_objects(title: str, lines: list[str]) -> list[bytes]:
    """Objects 1 to 5 of an A4 page with a title and lines of text in Helvetica; object 1 is the catalog."""
    stream = b"BT /F1 18 Tf 72 770 Td " + _pdf_string(title) + b" Tj /F1 12 Tf"
    for line in lines:
        stream += b" 0 -24 Td " + _pdf_string(line) + b" Tj"
    stream += b" ET"
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        stream_object(stream),
    ]


def assemble(objects: list[bytes], *, object_stream: bool = False) -> bytes:
    """A PDF of these objects (numbered from 1, the first one the catalog); the cross-reference is exact."""
    if object_stream:
        return _assemble_with_object_stream(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _assemble_with_object_stream(objects: list[bytes]) -> bytes:
    """PDF 1.5: every dictionary in one compressed object stream, streams at top level, a cross-reference stream."""
    packed = [n for n, body in enumerate(objects, start=1) if not body.rstrip().endswith(b"endstream")]
    header, bodies = [], b""
    for number in packed:
        header.append(f"{number} {len(bodies)}")
        bodies += objects[number - 1] + b"\n"
    head = (" ".join(header) + "\n").encode()
    stream_number, xref_number = len(objects) + 1, len(objects) + 2
    all_objects = [*objects, stream_object(head + bodies, f" /Type /ObjStm /N {len(packed)} /First {len(head)}"
                                           .encode(), compress=True)]
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    entries = {0: (0, 0, 65535)}
    for number, body in enumerate(all_objects, start=1):
        if number in packed:
            entries[number] = (2, stream_number, packed.index(number))
            continue
        entries[number] = (1, len(out), 0)
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    entries[xref_number] = (1, len(out), 0)
    table = b"".join(kind.to_bytes(1, "big") + field.to_bytes(4, "big") + index.to_bytes(2, "big")
                     for kind, field, index in (entries[n] for n in range(xref_number + 1)))
    xref = stream_object(table, f" /Type /XRef /Size {xref_number + 1} /W [1 4 2] /Root 1 0 R".encode(), compress=True)
    start = len(out)
    out += f"{xref_number} 0 obj\n".encode() + xref + b"\nendobj\n"
    out += f"startxref\n{start}\n%%EOF\n".encode()
    return bytes(out)


def text_pdf(title: str, lines: list[str]) -> bytes:
    """An A4 page with a title and lines of text in Helvetica; the cross-reference table is exact."""
    return assemble(text_objects(title, lines))
