"""Who may do what: identities from verified tokens, and the roles that Cognito groups grant."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.errors import Forbidden


class Role(enum.IntEnum):
    """Ordered: each role may do everything the ones below it may."""

    VIEWER = 1
    EDITOR = 2
    ADMIN = 3


@dataclass(frozen=True)
class Identity:
    username: str
    groups: tuple[str, ...]

    @property
    def role(self) -> Role | None:
        return role_for(self.groups)


def role_for(groups: Iterable[str]) -> Role | None:
    roles = [Role[group.upper()] for group in groups if group.upper() in Role.__members__]
    return max(roles) if roles else None


def require(identity: Identity, needed: Role) -> None:
    role = identity.role
    if role is None or role < needed:
        have = role.name.lower() if role else "no role"
        raise Forbidden(f"this needs the {needed.name.lower()} role; {identity.username} has {have}")


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Identity:
        """The token's user, or Unauthenticated when it is not a valid, current token of our pool."""
        ...
