"""An auth manager for the tests: Airflow's SimpleAuthManager, plus users limited to some DAGs.

SimpleAuthManager gives a role the same access to every DAG; FAB or Keycloak can grant a role one
DAG only. ``DAG_SCOPES`` does that here, so the permission matrix can test an editor of one DAG.
Such a user sees none of the cluster-wide views (cluster activity, jobs, ...), as a FAB role
holding only DAG permissions does not: the permission matrix tests the resource page's refusal with it.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

#: user -> the DAG ids they may read and edit; they may not see any other DAG.
DAG_SCOPES = {"editor_a": frozenset({"ui_dag_a"})}


class PerDagAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        scope = DAG_SCOPES.get(user.get_name())
        if scope is not None:
            return details is not None and details.id in scope
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)

    def is_authorized_view(self, *, access_view: Any, user: Any) -> bool:
        if user.get_name() in DAG_SCOPES:
            return False
        return super().is_authorized_view(access_view=access_view, user=user)
