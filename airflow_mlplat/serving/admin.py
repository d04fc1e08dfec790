"""Who may call the service's admin routes (``POST /admin/reload``): the holder of one bearer token.

The token comes from ``$MLPLAT_SERVING_ADMIN_TOKEN``: exported locally, and on Kubernetes filled from
the Secret ``<service>-admin`` (key ``token``), which the manifests reference. Without a token the
admin routes are off when the service listens beyond loopback (a pod's port is open to every other
pod); a service bound to 127.0.0.1 only is itself the loopback admin port, so there they stay open
to this machine (the local deployments of the demo and the real-time loop).
"""

from __future__ import annotations

import hmac

#: The admin token's environment variable.
ADMIN_TOKEN_ENV = "MLPLAT_SERVING_ADMIN_TOKEN"
#: The key of the token in the Kubernetes Secret ``<service>-admin``.
SECRET_KEY = "token"


def secret_name(service: str) -> str:
    return f"{service}-admin"


#: Addresses that reach this machine only.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def admin_refusal(token: str | None, authorization: str | None, *, loopback_only: bool) -> tuple[int, str] | None:
    """``(status, message)`` refusing an admin request, or None when it may go ahead.

    :param token: the service's admin token (None: none configured).
    :param authorization: the request's ``Authorization`` header.
    :param loopback_only: the service listens on loopback only.
    """
    if not token:
        if loopback_only:
            return None
        return 403, f"the admin routes are off: this service listens beyond loopback and has no {ADMIN_TOKEN_ENV}"
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return 401, "admin routes need the header Authorization: Bearer <the service's admin token>"
    return None
