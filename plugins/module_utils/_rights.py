# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether ISC would refuse a write (HTTP 403), as far as the token's claims tell: check mode predicts it from here.

The claims are read without verifying the token (only ISC can); a token that is no JWT says nothing, and then
nothing is predicted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Requirement:
    """What SailPoint's specification asks of a token for one write."""

    # what the write does, as a refusal names it ("patch tasks")
    action: str
    # the user levels that may do it; a token without user context is judged by its scopes only
    user_levels: tuple
    # the scopes that allow it (sp:scopes:all allows everything)
    scopes: tuple
    # whether only a token with user context (a personal access token) may do it
    needs_user: bool = True


PATCH_TASKS = Requirement("patch tasks", ("ORG_ADMIN", "CERT_ADMIN", "REPORT_ADMIN"), ("sp:scopes:all", "idn:task-management:write"))
LAUNCH_ACCOUNTS = Requirement(
    "launch account aggregations", ("ORG_ADMIN", "SOURCE_ADMIN", "SOURCE_SUBADMIN"), ("sp:scopes:all", "idn:sources:manage"), needs_user=False
)
# beta's specification offers no application client the account launch: only a user's token
LAUNCH_ACCOUNTS_BETA = replace(LAUNCH_ACCOUNTS, needs_user=True)
LAUNCH_ENTITLEMENTS = Requirement("launch entitlement aggregations", ("ORG_ADMIN",), ("sp:scopes:all", "idn:entitlement:manage"))


def refusal(claims: dict, requirement: Requirement) -> str | None:
    """Why ISC would refuse ``requirement``'s write to this token, or None when its claims allow it or do not say."""
    if not claims:
        return None
    has_user = bool(claims.get("identity_id") or claims.get("user_name"))
    if requirement.needs_user and not has_user:
        return f"the client has no user context (an API client without a user), and ISC lets only a user's personal access token {requirement.action}"
    levels = claims.get("authorities")
    if has_user and isinstance(levels, list) and levels and not set(map(str, levels)) & set(requirement.user_levels):
        return f"its user level ({', '.join(map(str, levels))}) may not {requirement.action}; that takes {', '.join(requirement.user_levels)}"
    scopes = claims.get("scope")
    if isinstance(scopes, list) and scopes and not set(map(str, scopes)) & set(requirement.scopes):
        return f"its scopes ({', '.join(map(str, scopes))}) do not include {' or '.join(requirement.scopes)}"
    return None
