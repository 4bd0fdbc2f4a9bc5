"""The session cookie's token (ui.auth): ours, signed with RENFORT_COOKIE_KEY, unexpired, naming a user — and
carrying when the session was opened and whether it is kept open. Anything else opens nothing."""

from __future__ import annotations

import jwt

from core.shared.config import get_settings
from ui import auth

NOW = 1_800_000_000.0


def test_a_token_we_wrote_reads_back_with_the_opening_time_and_the_keep_choice() -> None:
    raw = auth.encode_token("ars@example.org", expires_at=NOW + 60, opened_at=NOW - 5.5, keep=True)
    assert auth.decode_token(raw, NOW) == {"username": "ars@example.org", "exp_date": NOW + 60,
                                           "opened_at": NOW - 5.5, "keep": True}


def test_an_expired_token_opens_nothing() -> None:
    raw = auth.encode_token("ars@example.org", expires_at=NOW - 1, opened_at=NOW - 600, keep=False)
    assert auth.decode_token(raw, NOW) is None


def test_a_token_signed_with_another_key_or_altered_opens_nothing() -> None:
    payload = {"username": "ccs@example.org", "exp_date": NOW + 60, "opened_at": NOW, "keep": True}
    forged = jwt.encode(payload, "une-autre-clé-de-signature-assez-longue-pour-hs256", algorithm="HS256")
    assert auth.decode_token(forged, NOW) is None
    genuine = auth.encode_token("ars@example.org", expires_at=NOW + 60, opened_at=NOW, keep=False)
    header, _, signature = genuine.split(".")
    altered_body = jwt.utils.base64url_encode(b'{"username":"ccs@example.org","exp_date":1900000000}').decode()
    assert auth.decode_token(f"{header}.{altered_body}.{signature}", NOW) is None


def test_an_unsigned_or_malformed_token_opens_nothing() -> None:
    unsigned = jwt.encode({"username": "ccs@example.org", "exp_date": NOW + 60}, None, algorithm="none")
    for raw in (unsigned, "", None, "pas-un-jeton", "a.b.c"):
        assert auth.decode_token(raw, NOW) is None


def test_a_token_without_a_user_or_an_expiry_opens_nothing() -> None:
    key = get_settings().cookie_key
    for payload in ({"exp_date": NOW + 60}, {"username": "ars@example.org"},
                    {"username": 12, "exp_date": NOW + 60}, {"username": "ars@example.org", "exp_date": "demain"}):
        assert auth.decode_token(jwt.encode(payload, key, algorithm="HS256"), NOW) is None
