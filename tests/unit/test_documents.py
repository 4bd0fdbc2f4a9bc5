"""Volunteers' documents: recognised by their content (magic bytes), 5 Mo at most, hashed."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.shared.errors import ValidationError
from core.volunteers.documents import MAX_DOCUMENT_BYTES, check_document, detect_type

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode."
SIGNATURES = (b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def refusal(kind: str, filename: str, content: bytes, **kwargs: str) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        check_document(kind, filename, content, **kwargs)
    return error.value


def test_a_pdf_is_accepted_with_its_size_and_sha256() -> None:
    upload = check_document("diplome", "diplome.pdf", PDF)
    assert (upload.kind, upload.filename, upload.mime) == ("diplome", "diplome.pdf", "application/pdf")
    assert upload.size == len(PDF)
    assert upload.sha256 == hashlib.sha256(PDF).hexdigest()
    assert upload.content == PDF


def test_a_jpeg_photo_is_accepted() -> None:
    upload = check_document("identite", "carte.jpg", JPEG)
    assert upload.mime == "image/jpeg"


def test_a_png_named_pdf_is_accepted_as_what_it_really_is() -> None:
    upload = check_document("identite", "carte-identite.pdf", PNG)
    assert upload.mime == "image/png"
    assert upload.filename == "carte-identite.pdf"


def test_an_exe_renamed_pdf_is_refused_with_a_clear_message() -> None:
    error = refusal("diplome", "diplome.pdf", EXE)
    assert error.field == "document_diplome"
    assert error.message == (
        "Diplôme : le fichier « diplome.pdf » n'est ni un PDF, ni une image JPEG ou PNG (contenu vérifié)."
    )


@pytest.mark.parametrize("content", [
    b"<html><body>diplome</body></html>", b"GIF89a\x01\x00\x01\x00", b"PK\x03\x04word/document.xml",
    b"%pdf-1.4 lower case", b"%PDF without dash", b" %PDF-1.4 leading space", b"\x89PNG but not quite",
])
def test_other_contents_are_refused_whatever_their_name(content: bytes) -> None:
    assert "n'est ni un PDF, ni une image JPEG ou PNG" in refusal("identite", "carte.pdf", content).message


def test_a_six_megabyte_file_is_refused_with_the_5_mo_limit_in_the_message() -> None:
    error = refusal("diplome", "scan.pdf", PDF + b"0" * (6 * 1024 * 1024 - len(PDF)))
    assert error.field == "document_diplome"
    assert error.message == "Diplôme : le fichier « scan.pdf » pèse 6,0 Mo ; la limite est de 5 Mo."


def test_exactly_5_mo_is_accepted_and_one_byte_more_is_refused() -> None:
    at_limit = PDF + b"0" * (MAX_DOCUMENT_BYTES - len(PDF))
    assert check_document("diplome", "scan.pdf", at_limit).size == 5 * 1024 * 1024
    assert "la limite est de 5 Mo" in refusal("diplome", "scan.pdf", at_limit + b"0").message


def test_the_size_is_checked_before_the_content_type() -> None:
    error = refusal("diplome", "setup.exe", EXE + b"\x00" * MAX_DOCUMENT_BYTES)
    assert "la limite est de 5 Mo" in error.message


@pytest.mark.parametrize("empty", [b"", None])
def test_an_empty_file_is_refused(empty: bytes | None) -> None:
    error = refusal("identite", "carte.pdf", empty)
    assert error.field == "document_identite"
    assert error.message == "Pièce d'identité : le fichier « carte.pdf » est vide."


def test_the_error_is_shown_on_the_field_given_by_the_page() -> None:
    assert refusal("autre", "x.pdf", EXE, field="document_autre_2").field == "document_autre_2"


def test_an_unknown_kind_is_called_document_in_the_message() -> None:
    assert refusal("attestation", "a.pdf", b"").message.startswith("Document : ")
    assert refusal("autre", "a.pdf", b"").message.startswith("Autre document : ")


def test_a_filename_cannot_carry_a_path() -> None:
    assert check_document("diplome", "../../etc/passwd.pdf", PDF).filename == ".._.._etc_passwd.pdf"
    assert check_document("diplome", "C:\\Users\\moi\\diplome.pdf", PDF).filename == "C:_Users_moi_diplome.pdf"


def test_a_very_long_filename_keeps_its_last_200_characters_and_so_its_extension() -> None:
    upload = check_document("diplome", "a" * 300 + ".pdf", PDF)
    assert len(upload.filename) == 200
    assert upload.filename.endswith("aaa.pdf")


@pytest.mark.parametrize("nameless", ["", None, "   "])
def test_a_file_without_a_name_is_called_document(nameless: str | None) -> None:
    assert check_document("diplome", nameless, PDF).filename == "document"
    assert refusal("diplome", nameless, b"").message == "Diplôme : le fichier « document » est vide."


def test_detect_type_tells_what_the_content_is() -> None:
    assert detect_type(PDF) == ("application/pdf", "pdf")
    assert detect_type(JPEG) == ("image/jpeg", "jpg")
    assert detect_type(PNG) == ("image/png", "png")
    assert detect_type(EXE) is None


@given(st.sampled_from(SIGNATURES), st.binary(max_size=256), st.sampled_from(["identite", "diplome", "autre"]))
def test_any_content_with_a_known_signature_is_accepted_and_hashed(magic: bytes, rest: bytes, kind: str) -> None:
    content = magic + rest
    upload = check_document(kind, "fichier.bin", content)
    assert upload.kind == kind
    assert upload.size == len(content)
    assert upload.sha256 == hashlib.sha256(content).hexdigest()


@given(st.binary(min_size=1, max_size=256))
def test_any_content_without_a_known_signature_is_refused(content: bytes) -> None:
    if any(content.startswith(magic) for magic in SIGNATURES):
        return
    with pytest.raises(ValidationError, match="contenu vérifié"):
        check_document("diplome", "diplome.pdf", content)
