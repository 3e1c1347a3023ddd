"""WMS users: credentials, eligible facilities and companies, readable entities, default zone.

Oracle scopes every answer to the user's eligible facilities and companies and checks the
`lgfapi_read_access` permission per entity; a user's default facility decides how a filter
date-time without an offset is read. The simulator's default user (`demo`) sees everything and
reads naive date-times in F1's zone.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field

from .entities import ENTITIES
from .model import Entity
from .reference import FACILITIES

_FACILITY_IDS = {f.code: i for i, f in enumerate(FACILITIES, start=1)}
_COMPANY_IDS = {"C1": 1, "C2": 2}
ROWS_PER_PAGE = (10, 125)
"""The range of the "Rows per Page" user setting."""


@dataclass(frozen=True)
class User:
    """`None` for facilities/companies/readable_entities means "all". `writable`: the
    `lgfapi_create_access`/`lgfapi_update_access` permissions (POST/PATCH); False is read-only.
    `rows_per_page`: the user's "Rows per Page" (10 to 125): the default page size of a list and
    the most objects one bulk operation may act on."""

    username: str
    password: str
    facilities: tuple[str, ...] | None = None
    companies: tuple[str, ...] | None = None
    readable_entities: frozenset[str] | None = None
    default_facility: str | None = None
    writable: bool = True
    rows_per_page: int = 125
    facility_ids: tuple[int, ...] | None = field(init=False, default=None)
    company_ids: tuple[int, ...] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not ROWS_PER_PAGE[0] <= self.rows_per_page <= ROWS_PER_PAGE[1]:
            raise ValueError(f"rows_per_page must be from 10 to 125 (got {self.rows_per_page})")
        for code in (*(self.facilities or ()), self.default_facility or "F1"):
            if code not in _FACILITY_IDS:
                raise ValueError(f"unknown facility code {code!r}")
        for code in self.companies or ():
            if code not in _COMPANY_IDS:
                raise ValueError(f"unknown company code {code!r}")
        for name in self.readable_entities or ():
            if name not in ENTITIES:
                raise ValueError(f"unknown entity {name!r}")
        facs = None if self.facilities is None else tuple(_FACILITY_IDS[c] for c in self.facilities)
        if self.companies is not None:
            cos: tuple[int, ...] | None = tuple(_COMPANY_IDS[c] for c in self.companies)
        elif facs is not None:  # eligible companies default to those owning the facilities
            cos = tuple(sorted({FACILITIES[f - 1].company for f in facs}))
        else:
            cos = None
        object.__setattr__(self, "facility_ids", facs)
        object.__setattr__(self, "company_ids", cos)

    @property
    def naive_offset(self) -> int:
        """Minutes east of UTC of the default facility (else the first eligible one, else F1)."""
        code = self.default_facility or (self.facilities[0] if self.facilities else "F1")
        return FACILITIES[_FACILITY_IDS[code] - 1].tz_minutes

    def can_read(self, entity: str) -> bool:
        return self.readable_entities is None or entity in self.readable_entities

    def scope_sql(self, entity: Entity) -> str | None:
        """The condition limiting `entity` rows (alias `t`) to this user's eligibility, or None.

        A row belongs to a facility (`_fac`) and/or a company (`_co`); a row without a facility
        (item, vendor, company) is visible when its company is eligible. Code tables are global.
        """
        if not entity.audited or (self.facility_ids is None and self.company_ids is None):
            return None
        parts = []
        if self.facility_ids is not None:
            ids = ", ".join(map(str, self.facility_ids))
            parts.append(f"(t._fac IS NULL OR t._fac IN ({ids}))")
        if self.company_ids is not None:
            ids = ", ".join(map(str, self.company_ids))
            parts.append(f"(t._co IS NULL OR t._co IN ({ids}))")
        return " AND ".join(parts)


@dataclass
class Users:
    """The simulated environment's users, by name."""

    _users: dict[str, User] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, user: User) -> None:
        with self._lock:
            self._users[user.username] = user

    def get(self, username: str) -> User | None:
        return self._users.get(username)

    def check(self, username: str, password: str) -> User | None:
        """The user when the password matches (constant-time compare), else None."""
        user = self._users.get(username)
        if user is None:
            hmac.compare_digest(password.encode(), b"-")  # same work for unknown users
            return None
        return user if hmac.compare_digest(password.encode(), user.password.encode()) else None
