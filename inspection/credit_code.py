"""Unified social credit code (统一社会信用代码), GB 32100-2015: format and check digit."""
from __future__ import annotations

from functools import lru_cache

from core.messages import N_, Message

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I, O, S, V, Z
_ALLOWED = frozenset(ALPHABET)
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, ...
WRONG_LENGTH = N_("credit code must be 18 characters, got %(length)s")
BAD_CHARACTERS = N_("credit code contains characters not allowed by GB 32100: %(characters)s")
NO_DIVISION = N_("credit code characters 3-8 must be the administrative division code")
WRONG_CHECK_DIGIT = N_("credit code check digit is wrong: expected %(expected)s, got %(got)s")


def check_digit(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=65536)  # an import names the same producers over and over
def credit_code_error(code: str) -> Message | None:
    """Return why `code` is not a valid credit code, or None when it is valid."""
    if len(code) != 18:
        return WRONG_LENGTH(length=len(code))
    bad = sorted(set(code) - _ALLOWED)
    if bad:
        return BAD_CHARACTERS(characters="".join(bad))
    if not code[2:8].isdigit():
        return NO_DIVISION
    expected = check_digit(code[:17])
    if code[17] != expected:
        return WRONG_CHECK_DIGIT(expected=expected, got=code[17])
    return None


def region_of(code: str) -> str:
    """The administrative division (GB/T 2260) the code was registered in."""
    return code[2:8]
