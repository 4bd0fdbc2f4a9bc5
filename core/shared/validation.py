"""Input checks: each returns the normalised value or raises ValidationError naming the field."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

import email_validator

from core.shared.errors import ValidationError

FINESS_PATTERN = re.compile(r"[0-9][0-9AB][0-9]{7}")
FINESS_DEPARTMENT_PREFIXES = {f"{n:02d}" for n in range(1, 96)} | {"2A", "2B", "97", "98"}
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_BYTES = 72  # bcrypt ignores (and bcrypt 5 refuses) anything longer
MAX_COUNT = 500


# ---------------------------------------------------------------- invisible and control characters
#
# What a person types is printable text. A NUL byte crashes PostgreSQL (« text fields cannot contain NUL »), the
# other controls corrupt e-mails, spreadsheets and logs, and invisible format characters make two different texts
# look alike: a RIGHT-TO-LEFT OVERRIDE shows « Martin\u202eeporue » as another name, a ZERO WIDTH SPACE makes
# « Du\u200bpont » a second « Dupont ». So every text input refuses them, with the field's name. Tab, line feed and
# carriage return are white space: a line break is kept in a multi-line field and becomes a space elsewhere, as a
# tab pasted from a spreadsheet does. Allowed on purpose: ZERO WIDTH JOINER and NON-JOINER (emoji sequences such
# as 👩‍⚕️, Persian or Indic scripts) and the tag characters of flag emoji.

WHITE_SPACE_CONTROLS = frozenset("\t\n\r")
JOINERS = frozenset("\u200c\u200d")
DIRECTION_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refused(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cc":
        return char not in WHITE_SPACE_CONTROLS
    if category == "Cf":
        return char not in JOINERS and not "\U000e0020" <= char <= "\U000e007f"
    return category == "Cs"  # a lone surrogate: not text at all (and no database can store it)


def refused_character(text: str) -> str | None:
    """The first character no text input accepts, or None (ASCII text is checked by one regex)."""
    if text.isascii():
        found = _ASCII_CONTROL.search(text)
        return found.group() if found else None
    return next((char for char in text if _refused(char)), None)


def invisible_message(label: str, char: str) -> str:
    """Names the field and the character's code (the character itself cannot be seen), never the text typed."""
    code = f"U+{ord(char):04X}"
    if char in DIRECTION_CONTROLS:
        kind = (f"un caractère invisible qui change le sens d'écriture ({code}) : il peut faire lire un autre "
                "texte que celui enregistré")
    elif unicodedata.category(char) == "Cf":
        kind = f"un caractère invisible non autorisé ({code}, comme une espace de largeur nulle)"
    elif unicodedata.category(char) == "Cs":
        kind = f"un caractère invalide ({code})"
    else:
        kind = f"un caractère de contrôle invisible ({code})"
    return (f"Le champ « {label} » contient {kind}. Retapez le texte sans ce caractère "
            "(il vient souvent d'un copier-coller).")


def refuse_invisible(value: Any, field: str, label: str) -> str:
    """The value as text, or ValidationError naming the field when it holds a refused character."""
    text = str(value if value is not None else "")
    char = refused_character(text)
    if char is not None:
        raise ValidationError(field, invisible_message(label, char))
    return text


def without_invisible(value: Any) -> str:
    """The text with every refused character removed: for what is only compared, never stored (a search, the
    e-mail typed to sign in), where a stray character must neither crash the database nor match anything."""
    text = str(value if value is not None else "")
    if refused_character(text) is None:
        return text
    return "".join(char for char in text if not _refused(char))


def search_text(value: Any, max_length: int = 200) -> str:
    """A search field's text: invisible characters dropped, white space collapsed and trimmed, length bounded."""
    return re.sub(r"\s+", " ", without_invisible(value)).strip()[:max_length]


def compact(value: Any) -> str:
    """Text without any whitespace; Excel's '10000024.0' loses its '.0'."""
    text = re.sub(r"\s+", "", str(value if value is not None else ""))
    return re.sub(r"^(\d+)\.0$", r"\1", text)


def luhn_ok(digits: str) -> bool:
    """Luhn check over a string of digits (doubling every second digit from the right)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char)
        if position % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def finess_department_mismatch(finess: str, department_code: str) -> str | None:
    """A FINESS whose first characters are not the department of the establishment's postal code: a warning for
    the ARS, never a refusal (some establishments are registered in another department than their address).
    Overseas numbers start with 97 and a territory digit: only « 97 » is compared."""
    prefix, department = finess[:2].upper(), department_code.upper()
    if department.startswith("97"):
        accepted = {"97"}
    elif department in {"2A", "2B"}:
        accepted = {department, "20"}  # Corsica's numbers predate its split into 2A and 2B
    else:
        accepted = {department}
    if prefix in accepted or len(finess) != 9:
        return None
    return (f"Le numéro FINESS commence par {prefix}, le code postal est dans le département {department_code} : "
            "vérifiez qu'il s'agit bien de cet établissement (certains sont immatriculés dans un autre "
            "département).")


def validate_finess(value: Any, field: str = "finess") -> str:
    """A FINESS number: 9 characters, Luhn key when numeric, Corsica 2A/2B on format only."""
    finess = compact(refuse_invisible(value, field, "Numéro FINESS")).upper()
    if not finess:
        raise ValidationError(field, "Le numéro FINESS est obligatoire.")
    if re.fullmatch(r"\d{8}", finess) and luhn_ok("0" + finess):
        corrected = "0" + finess
        raise ValidationError(
            field,
            f"Le numéro FINESS « {finess} » n'a que 8 chiffres : il a sans doute perdu son zéro "
            f"initial dans un tableur. Numéro corrigé proposé : {corrected}.",
            suggestion=corrected,
        )
    if not FINESS_PATTERN.fullmatch(finess) or (finess[1] in "AB" and finess[0] != "2"):
        raise ValidationError(
            field,
            f"Le numéro FINESS « {finess} » doit compter 9 caractères : 9 chiffres, "
            "ou 2A / 2B suivis de 7 chiffres pour la Corse.",
        )
    if finess[:2] not in FINESS_DEPARTMENT_PREFIXES:
        raise ValidationError(
            field, f"Le numéro FINESS « {finess} » ne commence pas par un code de département."
        )
    # No real Corsican number could confirm the key rule: 2A/2B are checked on format only.
    if finess.isdigit() and not luhn_ok(finess):
        raise ValidationError(
            field,
            f"Le numéro FINESS « {finess} » est invalide : sa clé de contrôle (dernier chiffre) "
            "ne correspond pas. Vérifiez la saisie.",
        )
    return finess


def validate_gid(value: Any, field: str = "finess") -> str:
    """A vaccination centre's GID: digits only, 1 to 10 characters (format only)."""
    gid = compact(refuse_invisible(value, field, "Numéro GID"))
    if not gid:
        raise ValidationError(field, "Le numéro GID du centre de vaccination est obligatoire.")
    if not re.fullmatch(r"\d{1,10}", gid):
        raise ValidationError(
            field, f"Le numéro GID « {gid} » doit comporter de 1 à 10 chiffres, sans lettre."
        )
    return gid


def validate_email(value: Any, field: str = "email") -> str:
    """A syntactically valid address (no DNS lookup), normalised to lower case."""
    text = refuse_invisible(value or "", field, "Adresse électronique").strip()
    if not text:
        raise ValidationError(field, "L'adresse électronique est obligatoire.")
    try:
        result = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise ValidationError(
            field,
            f"L'adresse électronique « {text} » n'est pas valide (exemple attendu : "
            "prenom.nom@domaine.fr).",
        ) from error
    return result.normalized.lower()


PASSWORD_RULES: tuple[tuple[str, Any], ...] = (
    (f"au moins {PASSWORD_MIN_LENGTH} caractères", lambda p: len(p) >= PASSWORD_MIN_LENGTH),
    ("une lettre majuscule", lambda p: any(c.isupper() for c in p)),
    ("une lettre minuscule", lambda p: any(c.islower() for c in p)),
    ("un chiffre", lambda p: any(c.isdigit() for c in p)),
    ("un caractère spécial (! ? # @ % …)", lambda p: any(not c.isalnum() and not c.isspace() for c in p)),
)


def password_checks(password: str) -> list[tuple[str, bool]]:
    """Each rule with whether the password meets it, for the ticks beside the field."""
    return [(label, bool(rule(password or ""))) for label, rule in PASSWORD_RULES]


def validate_password(value: Any, field: str = "password") -> str:
    password = refuse_invisible(value or "", field, "Mot de passe")
    missing = [label for label, ok in password_checks(password) if not ok]
    if missing:
        raise ValidationError(field, "Le mot de passe doit contenir " + ", ".join(missing) + ".")
    if len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise ValidationError(field, "Le mot de passe est trop long (64 caractères au plus).")
    return password


def parse_date(value: Any, field: str, label: str) -> date:
    """A date from a date, a datetime, or text as 2026-11-23 or 23/11/2026."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationError(field, f"La {label} est obligatoire.")
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValidationError(field, f"La {label} « {text} » n'est pas une date (attendu : JJ/MM/AAAA).")


def validate_date_range(
    start: Any, end: Any, *, start_field: str = "start_date", end_field: str = "end_date"
) -> tuple[date, date]:
    """Both dates present and the end not before the start."""
    start_date = parse_date(start, start_field, "date de début")
    end_date = parse_date(end, end_field, "date de fin")
    if end_date < start_date:
        raise ValidationError(
            end_field,
            f"La date de fin ({end_date:%d/%m/%Y}) est antérieure à la date de début "
            f"({start_date:%d/%m/%Y}).",
        )
    return start_date, end_date


def validate_count(value: Any, field: str = "count") -> int:
    """A number of people: a whole number between 0 and MAX_COUNT."""
    if isinstance(value, bool):
        raise ValidationError(field, "Le nombre de professionnels doit être un nombre entier.")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValidationError(field, "Le nombre de professionnels doit être un nombre entier.") from None
    if number < 0:
        raise ValidationError(field, "Le nombre de professionnels ne peut pas être négatif.")
    if number > MAX_COUNT:
        raise ValidationError(field, f"Le nombre de professionnels ne peut pas dépasser {MAX_COUNT}.")
    return number


def validate_text(
    value: Any, field: str, label: str, *, max_length: int = 200, required: bool = True, multiline: bool = False
) -> str | None:
    """Trimmed text; `label` names the field in the message. Control and invisible characters are refused; a
    one-line field has its runs of white space (tabs, line breaks) collapsed into one space, a `multiline` one
    (a message, a reason) keeps its lines — at most one blank line in a row — and tidies the spaces inside each."""
    raw = refuse_invisible(value or "", field, label)
    if multiline:
        lines = re.split(r"\r\n|[\n\r\u2028\u2029]", raw)
        text = "\n".join(re.sub(r"\s+", " ", line).strip() for line in lines)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
    else:
        text = re.sub(r"\s+", " ", raw).strip()
    if not text:
        if required:
            raise ValidationError(field, f"Le champ « {label} » est obligatoire.")
        return None
    if len(text) > max_length:
        raise ValidationError(field, f"Le champ « {label} » dépasse {max_length} caractères.")
    return text


class NeedsConfirmation(ValidationError):
    """A doubtful but possible value: the user may confirm it (e.g. an RPPS whose key does not match)."""


# Overseas numbers dialled nationally (0590…, 0690…) belong to other country codes internationally.
OVERSEAS_PREFIXES = {
    "590": "590", "690": "590", "691": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "596": "596", "696": "596", "697": "596",  # Martinique
    "594": "594", "694": "594",  # Guyane
    "262": "262", "692": "262", "693": "262",  # La Réunion
    "269": "262", "639": "262",  # Mayotte
    "508": "508",  # Saint-Pierre-et-Miquelon
}
INTERNATIONAL_CODES = ("33", "590", "596", "594", "262", "508")


def validate_phone(value: Any, field: str = "phone") -> str:
    """A French phone number (mainland or overseas), normalised to E.164 (+33612345678)."""
    raw = refuse_invisible(value or "", field, "Téléphone").strip()
    digits = re.sub(r"[\s.\-/()]", "", raw)
    if not digits:
        raise ValidationError(field, "Le numéro de téléphone est obligatoire.")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        number = digits[1:]
        code = next((c for c in INTERNATIONAL_CODES if number.startswith(c)), None)
        national = number[len(code):] if code else ""
        if code and national.startswith("0"):
            national = national[1:]  # "+33 (0)6…" is a common way of writing it
        if code and re.fullmatch(r"[1-9]\d{8}", national):
            # One number, one form: +33 6 90… is the Guadeloupe mobile +590 690…, and a country code
            # must match the number's prefix (+262 6 12… is not a Réunion number).
            expected = OVERSEAS_PREFIXES.get(national[:3], "33")
            if code == "33" or expected == code:
                return f"+{expected}{national}"
    elif re.fullmatch(r"0[1-9]\d{8}", digits):
        code = OVERSEAS_PREFIXES.get(digits[1:4], "33")
        return f"+{code}{digits[1:]}"
    raise ValidationError(
        field,
        f"Le numéro de téléphone « {raw} » n'est pas un numéro français valide "
        "(exemples : 06 12 34 56 78, +33 6 12 34 56 78, 0690 12 34 56).",
    )


def format_phone(e164: str | None) -> str:
    """+33612345678 → 06 12 34 56 78 (the way French users read numbers)."""
    if not e164:
        return ""
    national = "0" + e164[-9:]
    return " ".join(national[i:i + 2] for i in range(0, 10, 2))


def validate_rpps(value: Any, field: str = "id_number", *, confirmed: bool = False) -> str:
    """An RPPS number: 11 digits starting with 1 (a 12-digit '8' + RPPS is accepted);
    a Luhn mismatch is a warning the user can confirm, never a blocking error."""
    number = compact(refuse_invisible(value, field, "Numéro RPPS"))
    if not number:
        raise ValidationError(field, "Le numéro RPPS est obligatoire (ou choisissez « Je n'en ai pas »).")
    if re.fullmatch(r"8\d{11}", number):
        number = number[1:]
    if not re.fullmatch(r"1\d{10}", number):
        raise ValidationError(field, f"Le numéro RPPS « {number} » doit compter 11 chiffres et commencer par 1.")
    if not luhn_ok(number) and not confirmed:
        raise NeedsConfirmation(
            field,
            f"La clé du numéro RPPS « {number} » ne correspond pas : vérifiez-le sur votre carte CPS. "
            "S'il est exact, cochez « Je confirme ce numéro ».",
        )
    return number


def validate_adeli(value: Any, field: str = "id_number") -> str:
    """An ADELI number: 9 characters (department, profession, sequence, key), checked on format only."""
    number = compact(refuse_invisible(value, field, "Numéro ADELI")).upper()
    if not number:
        raise ValidationError(field, "Le numéro ADELI est obligatoire (ou choisissez « Je n'en ai pas »).")
    if not re.fullmatch(r"(\d{2}|2[AB])\d{7}", number):
        raise ValidationError(field, f"Le numéro ADELI « {number} » doit compter 9 caractères (chiffres, 2A/2B pour la Corse).")
    return number
