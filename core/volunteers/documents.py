"""Volunteers' documents: type checked by magic bytes, size capped, stored with their sha256.

`check_pdf` applies the same checks to an upload that must be a PDF (the dossiers of application campaigns,
core.campaigns)."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from core.shared.errors import ValidationError
from core.shared.validation import refused_character
from core.volunteers.pdf_scan import find_active_content

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
KIND_LABELS = {"identite": "Pièce d'identité", "diplome": "Diplôme", "autre": "Autre document"}
# (signature, mime, extension): what the file *is*, whatever its name says.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


@dataclass(frozen=True)
class DocumentUpload:
    kind: str
    filename: str
    mime: str
    size: int
    sha256: str
    content: bytes


def detect_type(content: bytes) -> tuple[str, str] | None:
    return next(((mime, ext) for magic, mime, ext in SIGNATURES if content.startswith(magic)), None)


def safe_filename(filename: str | None) -> str:
    """The name shown to the ARS and given back at download: no folder, and each control or invisible character
    replaced by a visible « _ » — a NUL would crash PostgreSQL, a RIGHT-TO-LEFT OVERRIDE shows « dip\u202efdp.exe »
    as « dipexe.pdf ». The content is what is checked; the name is only a label, so it is mended, not refused."""
    name = re.sub(r"\s+", " ", filename or "").strip().replace("/", "_").replace("\\", "_")
    while (char := refused_character(name)) is not None:
        name = name.replace(char, "_")
    return name[-200:] or "document"


RESAVE_AS_PDF = "Enregistrez le document de nouveau en PDF (menu « Imprimer », puis « Enregistrer au format PDF »)"
RESAVE_ADVICE = f"{RESAVE_AS_PDF} ou envoyez une photo ou un scan (JPEG ou PNG)."


def _refuse_active_pdf(content: bytes, field: str, subject: str, advice: str = RESAVE_ADVICE) -> None:
    """A PDF with JavaScript, automatic actions or attached files is refused: the ARS opens it in its viewer."""
    finding = find_active_content(content)
    if finding is None:
        return
    if finding.verifiable:
        raise ValidationError(field, f"{subject} est un PDF qui contient {finding.what} : il est refusé par "
                                     f"sécurité. {advice}")
    raise ValidationError(field, f"{subject} est un PDF que la plateforme ne peut pas vérifier ({finding.what}) : "
                                 f"il est refusé par sécurité. {advice}")


def _refuse_empty_or_large(content: bytes, field: str, label: str, name: str) -> None:
    if not content:
        raise ValidationError(field, f"{label} : le fichier « {name} » est vide.")
    if len(content) > MAX_DOCUMENT_BYTES:
        size_mo = f"{math.ceil(len(content) / 1024 / 1024 * 10) / 10:.1f}".replace(".", ",")  # 5 Mo + 1 octet → 5,1
        raise ValidationError(field, f"{label} : le fichier « {name} » pèse {size_mo} Mo ; la limite est de 5 Mo.")


def check_document(kind: str, filename: str, content: bytes, field: str | None = None) -> DocumentUpload:
    """A PDF, JPEG or PNG of at most 5 Mo, recognised by its content (an .exe renamed .pdf is refused); a PDF
    with active content (JavaScript, automatic actions, attached files: core.volunteers.pdf_scan) is refused."""
    field = field or f"document_{kind}"
    label = KIND_LABELS.get(kind, "Document")
    name = safe_filename(filename)
    _refuse_empty_or_large(content, field, label, name)
    detected = detect_type(content)
    if detected is None:
        raise ValidationError(
            field, f"{label} : le fichier « {name} » n'est ni un PDF, ni une image JPEG ou PNG (contenu vérifié)."
        )
    mime, _ = detected
    if mime == "application/pdf":
        _refuse_active_pdf(content, field, f"{label} : le fichier « {name} »")
    return DocumentUpload(kind=kind, filename=name, mime=mime, size=len(content),
                          sha256=hashlib.sha256(content).hexdigest(), content=content)


def check_pdf(kind: str, label: str, filename: str, content: bytes, field: str) -> DocumentUpload:
    """A PDF only — recognised by its content, never by its name — of at most 5 Mo, without active content: the
    checks of `check_document`, for an upload that the reader expects as a PDF. `label` names the document."""
    name = safe_filename(filename)
    _refuse_empty_or_large(content, field, label, name)
    if detect_type(content) != ("application/pdf", "pdf"):
        raise ValidationError(field, f"{label} : le fichier « {name} » n'est pas un PDF (contenu vérifié) ; seuls "
                                     f"les fichiers PDF sont acceptés. {RESAVE_AS_PDF}.")
    _refuse_active_pdf(content, field, f"{label} : le fichier « {name} »", f"{RESAVE_AS_PDF}.")
    return DocumentUpload(kind=kind, filename=name, mime="application/pdf", size=len(content),
                          sha256=hashlib.sha256(content).hexdigest(), content=content)
