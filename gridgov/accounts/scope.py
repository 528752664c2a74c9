"""The jurisdiction scope every selector takes.

There is no unscoped list in views or the API: a selector receives a `Scope` and applies
`scope.filter(qs)` (or `scope.regions()`), which restricts rows to the viewer's subtree by the
materialised region path. An anonymous or inactive user gets a scope that matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, QuerySet

from gridgov.regions.models import Region

from .models import DEPARTMENT_ROLES, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    role: str | None
    path: str | None
    department_id: int | None = None
    region_id: int | None = None

    @classmethod
    def nobody(cls) -> Scope:
        return cls(user_id=None, role=None, path=None)

    @classmethod
    def system(cls, region: Region) -> Scope:
        """For importers and background jobs acting for a whole region."""
        return cls(user_id=None, role=Role.ADMIN, path=region.path, region_id=region.id)

    @classmethod
    def for_user(cls, user: User | AnonymousUser | None) -> Scope:
        if user is None or not user.is_authenticated or not user.is_active:
            return cls.nobody()
        from .models import User as UserModel

        assert isinstance(user, UserModel)
        region: Region | None
        if user.role in DEPARTMENT_ROLES and user.department_id:
            department = user.department
            assert department is not None
            if not department.is_active:
                return cls.nobody()
            region = department.region
        else:
            region = user.jurisdiction
        if region is None:
            return cls.nobody()
        return cls(
            user_id=user.pk,
            role=user.role,
            path=region.path,
            department_id=user.department_id,
            region_id=region.pk,
        )

    @property
    def is_empty(self) -> bool:
        return not self.path

    @property
    def depth(self) -> int:
        return len(self.path.strip("/").split("/")) - 1 if self.path else -1

    def covers(self, path: str | None) -> bool:
        return bool(self.path and path and path.startswith(self.path))

    def filter(self, qs: QuerySet[M], field: str = "region_path") -> QuerySet[M]:
        if not self.path:
            return qs.none()
        return qs.filter(**{f"{field}__startswith": self.path})

    def regions(self) -> QuerySet[Region]:
        return self.filter(Region.objects.all(), field="path")

    def has_role(self, *roles: Any) -> bool:
        return self.role in {str(r) for r in roles}
