"""The one exception family of the domain: each message is the final French sentence for the user."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a page may show with st.error."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Bad input on one field; `field` names it so the page can show the error beside it."""

    def __init__(self, field: str, message: str, *, suggestion: str | None = None):
        super().__init__(message)
        self.field = field
        self.suggestion = suggestion


class FormErrors(DomainError):
    """Several field errors found at once, so a form can show all of them in one submit."""

    def __init__(self, errors: list[ValidationError]):
        super().__init__("Le formulaire contient des erreurs : corrigez les champs signalés.")
        self.errors = errors

    def by_field(self) -> dict[str, str]:
        return {error.field: error.message for error in self.errors}


class PermissionDenied(DomainError):
    def __init__(self, message: str = "Vous n'avez pas les droits pour cette action."):
        super().__init__(message)


class Conflict(DomainError):
    """The action clashes with the current state (already taken, already done…)."""


class ServiceUnavailable(DomainError):
    """The database could not be reached or dropped the connection mid-transaction (a restart, a failover, a
    lock held too long): nothing was written, and the same action may simply be tried again."""

    def __init__(self, message: str = "Service momentanément indisponible, réessayez dans quelques instants : "
                                      "rien n'a été enregistré."):
        super().__init__(message)


class NotFound(DomainError):
    def __init__(self, message: str = "Élément introuvable."):
        super().__init__(message)


class ErrorCollector:
    """Runs several checks and keeps every ValidationError, so that a form shows all of them at once."""

    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def check(self, check, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        try:
            return check(*args, **kwargs)
        except ValidationError as error:
            self.errors.append(error)
            return None

    def add(self, field: str, message: str) -> None:
        self.errors.append(ValidationError(field, message))

    def has(self, field: str) -> bool:
        return any(error.field == field for error in self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)
