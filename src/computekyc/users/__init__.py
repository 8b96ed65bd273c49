"""Users, roles and credentials: who may act, and as whom.

The role → permission matrix is data (``users/data/roles.yaml``); :func:`require` is the one
check every service calls before a change.
"""

from computekyc.users.roles import (
    Permission,
    Role,
    allowed,
    matrix_version,
    permissions_of,
    require,
)
from computekyc.users.store import (
    OPERATOR_ROLE,
    NewUser,
    Unauthenticated,
    User,
    actor_for,
    add_user,
    authenticate_password,
    authenticate_token,
    get_user,
    issue_token,
    list_users,
    local_operator,
    revoke_user,
    set_password,
    set_role,
)

__all__ = [
    "OPERATOR_ROLE",
    "NewUser",
    "Permission",
    "Role",
    "Unauthenticated",
    "User",
    "actor_for",
    "add_user",
    "allowed",
    "authenticate_password",
    "authenticate_token",
    "get_user",
    "issue_token",
    "list_users",
    "local_operator",
    "matrix_version",
    "permissions_of",
    "require",
    "revoke_user",
    "set_password",
    "set_role",
]
