"""Projects: who belongs to which, with what role, and the rule that turns that into access to a model."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.domain.access import Identity, Role
from chalicelib.domain.clock import utc_now
from chalicelib.domain.errors import Conflict, Forbidden, NotFound
from chalicelib.domain.quotas import Quota
from chalicelib.tables import DEFAULT_PROJECT

PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
PROJECT_NAME_RULE = "1 to 40 lowercase letters, digits and dashes, starting with a letter"
# A member list is read whole on every membership page; beyond this a team wants groups, not names.
MAX_MEMBERS = 200


@dataclass(frozen=True)
class Project:
    name: str
    description: str
    created_by: str
    created_at: datetime
    quota: Quota = field(default_factory=Quota)


@dataclass(frozen=True)
class Member:
    project: str
    username: str
    role: Role
    added_by: str
    added_at: datetime


class ProjectDirectory(Protocol):
    """Projects and memberships in durable storage."""

    def add(self, project: Project) -> None:
        """Store a new project; Conflict when the name is taken."""
        ...

    def get(self, name: str) -> Project | None: ...

    def every(self) -> list[Project]:
        """All projects, by name."""
        ...

    def set_quota(self, name: str, quota: Quota) -> None:
        """Replace a stored project's quota; NotFound when it is not stored."""
        ...

    def remove(self, name: str) -> None:
        """Delete the project and its memberships."""
        ...

    def member(self, project: str, username: str) -> Member | None: ...

    def members(self, project: str) -> list[Member]:
        """The project's members, by username."""
        ...

    def memberships(self, username: str) -> list[Member]:
        """Every project the user is a member of, by project name."""
        ...

    def put_member(self, member: Member) -> None: ...

    def remove_member(self, project: str, username: str) -> None: ...


class UserDirectory(Protocol):
    """The people who can sign in."""

    def username_of(self, username_or_email: str) -> str | None:
        """The username of the user with this username or e-mail address, or None when there is none."""
        ...


def default_project() -> Project:
    # Exists without being stored: the models from before projects are in it, and a new stage has it.
    about = "The models made before projects, and any made without naming one."
    return Project(DEFAULT_PROJECT, about, "system", _EPOCH)


_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Access:
    """What one user may do in one project: the higher of their stage-wide role and their role in it."""

    project: str
    role: Role | None

    def require(self, identity: Identity, needed: Role) -> None:
        """Forbidden when the role is too low; NotFound when the user has none here (no oracle of what exists)."""
        if self.role is None:
            raise NotFound(f"no project named {self.project}")
        if self.role < needed:
            raise Forbidden(
                f"this needs the {needed.name.lower()} role in project {self.project}; "
                f"{identity.username} has {self.role.name.lower()}"
            )


class Projects:
    """Creating projects, managing their members, and answering what a user may do in one."""

    def __init__(
        self, directory: ProjectDirectory, users: UserDirectory, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._directory = directory
        self._users = users
        self._clock = clock

    def access(self, identity: Identity, project: str) -> Access:
        """The user's role in the project; a stage-wide role holds in every project, so no read is needed
        when it already is the highest."""
        stage_role = identity.role
        if stage_role is Role.ADMIN:
            return Access(project, stage_role)
        member = self._directory.member(project, identity.username)
        roles = [role for role in (stage_role, member.role if member else None) if role is not None]
        return Access(project, max(roles) if roles else None)

    def get(self, identity: Identity, name: str) -> tuple[Project, Access]:
        """The project as the user may see it; NotFound when it does not exist or they have no role in it."""
        found = self._find(name)
        access = self.access(identity, name)
        if found is None or access.role is None:
            raise NotFound(f"no project named {name}")
        return found, access

    def visible(self, identity: Identity) -> list[tuple[Project, Access]]:
        """The projects the user has a role in, by name: every project for a stage-wide role."""
        if identity.role is Role.ADMIN:  # no membership can raise it: no read of them
            return [(p, Access(p.name, Role.ADMIN)) for p in self.every()]
        if identity.role is not None:
            memberships = {m.project: m.role for m in self._directory.memberships(identity.username)}
            projects = self.every()
            return [(p, Access(p.name, max(identity.role, memberships.get(p.name, identity.role)))) for p in projects]
        seen: list[tuple[Project, Access]] = []
        for member in self._directory.memberships(identity.username):
            project = self._find(member.project)
            if project is not None:
                seen.append((project, Access(project.name, member.role)))
        return seen

    def every(self) -> list[Project]:
        stored = self._directory.every()
        if any(p.name == DEFAULT_PROJECT for p in stored):
            return stored
        return sorted([default_project(), *stored], key=lambda p: p.name)

    def create(self, name: str, description: str, actor: str) -> Project:
        if self._find(name) is not None:
            raise Conflict(f"a project named {name} already exists")
        project = Project(name, description, actor, self._clock())
        self._directory.add(project)
        return project

    def delete(self, name: str, has_models: Callable[[str], bool]) -> None:
        if name == DEFAULT_PROJECT:
            raise Conflict("the default project cannot be deleted: it holds the models made without a project")
        self._existing(name)
        if has_models(name):
            raise Conflict(f"project {name} still has models: delete them or move them to another project first")
        self._directory.remove(name)

    def set_quota(self, name: str, quota: Quota) -> Project:
        found = self._existing(name)
        if self._directory.get(name) is None:  # the default project is stored once something is kept about it
            self._directory.add(found)
        self._directory.set_quota(name, quota)
        return dataclasses.replace(found, quota=quota)

    def quota_of(self, name: str) -> Quota:
        found = self._find(name)
        return found.quota if found else Quota()

    def members(self, name: str) -> list[Member]:
        self._existing(name)
        return self._directory.members(name)

    def set_member(self, project: str, username_or_email: str, role: Role, actor: str) -> Member:
        """Add the user to the project, or change their role in it."""
        self._existing(project)
        username = self._users.username_of(username_or_email)
        if username is None:
            raise NotFound(f"no user with the username or e-mail address {username_or_email}")
        current = self._directory.members(project)
        if len(current) >= MAX_MEMBERS and all(m.username != username for m in current):
            raise Conflict(f"project {project} has {MAX_MEMBERS} members, the most a project may have")
        member = Member(project, username, role, actor, self._clock())
        self._directory.put_member(member)
        return member

    def remove_member(self, project: str, username: str) -> None:
        if self._directory.member(project, username) is None:
            raise NotFound(f"{username} is not a member of project {project}")
        self._directory.remove_member(project, username)

    def _existing(self, name: str) -> Project:
        found = self._find(name)
        if found is None:
            raise NotFound(f"no project named {name}")
        return found

    def _find(self, name: str) -> Project | None:
        if name == DEFAULT_PROJECT:
            return self._directory.get(name) or default_project()
        return self._directory.get(name)


def names_of(projects: Sequence[tuple[Project, Access]]) -> tuple[str, ...]:
    return tuple(project.name for project, _ in projects)
