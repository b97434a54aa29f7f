"""RBAC from small permission objects, combined in one dependency (as Dispatch does).

Each permission names one action and the least role that may do it; views declare
`Depends(PermissionsDependency(SomePermission))` and get the request's OrgScope.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hub.portal.auth.dependencies import tenant_scope
from hub.portal.errors import Forbidden
from hub.portal.tenancy import OrgScope, Role


class BasePermission:
    action: str = ""
    min_role: Role = Role.owner

    def has_required_permissions(self, scope: OrgScope) -> bool:
        return scope.role.at_least(self.min_role)


class ViewPermission(BasePermission):
    action = "view"
    min_role = Role.viewer


class AlertWorkPermission(BasePermission):
    action = "alerts.work"  # acknowledge and resolve
    min_role = Role.operator


class ManageStationsPermission(BasePermission):
    action = "stations.manage"
    min_role = Role.admin


class ManageTokensPermission(BasePermission):
    action = "tokens.manage"
    min_role = Role.admin


class ManageTeamPermission(BasePermission):
    action = "team.manage"
    min_role = Role.admin


class ViewAuditPermission(BasePermission):
    action = "audit.view"
    min_role = Role.admin


class ManageWorkflowsPermission(BasePermission):
    action = "workflows.manage"  # escalation policy, alert rules, contact points, delivery log
    min_role = Role.admin


class BillingPermission(BasePermission):
    action = "billing.manage"
    min_role = Role.owner


class DeleteOrgPermission(BasePermission):
    action = "org.delete"
    min_role = Role.owner


ALL_PERMISSIONS: tuple[type[BasePermission], ...] = (
    ViewPermission,
    AlertWorkPermission,
    ManageStationsPermission,
    ManageTokensPermission,
    ManageTeamPermission,
    ViewAuditPermission,
    ManageWorkflowsPermission,
    BillingPermission,
    DeleteOrgPermission,
)


class PermissionsDependency:
    """All listed permissions must hold for the caller's role in the URL's org."""

    def __init__(self, *permissions: type[BasePermission]) -> None:
        self.permissions = [permission() for permission in permissions]

    async def __call__(self, scope: Annotated[OrgScope, Depends(tenant_scope)]) -> OrgScope:
        for permission in self.permissions:
            if not permission.has_required_permissions(scope):
                raise Forbidden(f"Your role ({scope.role.value}) cannot do this.")
        return scope


def allowed(scope: OrgScope, permission: type[BasePermission]) -> bool:
    """For templates: show a button only when the action would be allowed."""
    return permission().has_required_permissions(scope)


Viewer = Annotated[OrgScope, Depends(PermissionsDependency(ViewPermission))]
AlertWorker = Annotated[OrgScope, Depends(PermissionsDependency(AlertWorkPermission))]
StationManager = Annotated[OrgScope, Depends(PermissionsDependency(ManageStationsPermission))]
TokenManager = Annotated[OrgScope, Depends(PermissionsDependency(ManageTokensPermission))]
TeamManager = Annotated[OrgScope, Depends(PermissionsDependency(ManageTeamPermission))]
AuditViewer = Annotated[OrgScope, Depends(PermissionsDependency(ViewAuditPermission))]
WorkflowManager = Annotated[OrgScope, Depends(PermissionsDependency(ManageWorkflowsPermission))]
BillingManager = Annotated[OrgScope, Depends(PermissionsDependency(BillingPermission))]
OrgDeleter = Annotated[OrgScope, Depends(PermissionsDependency(DeleteOrgPermission))]
