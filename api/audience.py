"""Audience profiles: what a liker may declare, and the buckets of CONTRACT rule 16.

The code lists come from `pycountry` (the ISO 3166-1 and ISO 639 tables of Debian's
iso-codes, kept up to date with each ISO change), not from a list copied here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import pycountry
import strawberry

from api.errors import BadUserInput

EARLIEST_BIRTH_YEAR = 1900
UNKNOWN = "UNKNOWN"

REGIONS: tuple[str, ...] = tuple(sorted(c.alpha_2 for c in pycountry.countries))
LANGUAGES: tuple[str, ...] = tuple(
    sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
)
_REGION_SET = frozenset(REGIONS)
_LANGUAGE_SET = frozenset(LANGUAGES)


@strawberry.enum(name="AudienceDimension")
class Dimension(Enum):
    AGE_BAND = "AGE_BAND"
    REGION = "REGION"
    LANGUAGE = "LANGUAGE"
    RELATIONSHIP = "RELATIONSHIP"
    ACCOUNT_PRIVACY = "ACCOUNT_PRIVACY"


# (upper bound of the age, exclusive; bucket), youngest first; ages are whole years.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (18, "UNDER_18"),
    (25, "18_24"),
    (35, "25_34"),
    (45, "35_44"),
    (55, "45_54"),
)
OLDEST_BAND = "55_PLUS"

# Every bucket of each dimension, in the order rule 16 lists them.
BUCKETS: dict[Dimension, tuple[str, ...]] = {
    Dimension.AGE_BAND: (*(name for _, name in AGE_BANDS), OLDEST_BAND, UNKNOWN),
    Dimension.REGION: (*REGIONS, UNKNOWN),
    Dimension.LANGUAGE: (*LANGUAGES, UNKNOWN),
    Dimension.RELATIONSHIP: ("FOLLOWER", "NON_FOLLOWER"),
    Dimension.ACCOUNT_PRIVACY: ("PUBLIC", "PRIVATE"),
}


def valid_birth_year(year: int | None) -> int | None:
    if year is None:
        return None
    this_year = datetime.now(UTC).year
    if not EARLIEST_BIRTH_YEAR <= year <= this_year:
        raise BadUserInput(f"A birth year must be between {EARLIEST_BIRTH_YEAR} and {this_year}.")
    return year


def valid_region(region: str | None) -> str | None:
    if region is None:
        return None
    code = region.strip().upper()
    if code not in _REGION_SET:
        raise BadUserInput("A region must be an ISO 3166-1 alpha-2 country code, such as FR or JP.")
    return code


def valid_language(language: str | None) -> str | None:
    if language is None:
        return None
    code = language.strip().lower()
    if code not in _LANGUAGE_SET:
        raise BadUserInput("A language must be an ISO 639-1 code, such as en or pt.")
    return code
