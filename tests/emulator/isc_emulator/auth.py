"""Clients, OAuth client-credentials tokens and their checks."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import threading
import time
import uuid

# role -> (user level, user context); only a user with a level other than HELPDESK may PATCH.
ROLES = {"admin": ("ORG_ADMIN", True), "api": (None, False), "helpdesk": ("HELPDESK", True)}
READ_SCOPE = "idn:task-management:read"
WRITE_SCOPE = "idn:task-management:write"
MAX_GRANTS = 10_000


def _derive(seed, tenant, role, part, length):
    return hashlib.sha256(("isc-emulator/%s/%s/%s/%s" % (seed, tenant, role, part)).encode()).hexdigest()[:length]


def make_clients(seed, tenant):
    """Deterministic credentials, so a demo's printed secrets are stable from run to run."""
    return {
        role: {
            "client_id": _derive(seed, tenant, role, "id", 32),
            "client_secret": _derive(seed, tenant, role, "secret", 64),
            "user_level": level,
            "user_context": context,
        }
        for role, (level, context) in ROLES.items()
    }


def tenant_id(seed, tenant):
    return _derive(seed, tenant, "tenant", "id", 32)


def find_client(clients, client_id, client_secret):
    """The role whose credentials match, or None; constant-time on the secret."""
    for role, client in clients.items():
        if client["client_id"] == client_id and hmac.compare_digest(client["client_secret"], client_secret or ""):
            return role
    return None


@dataclasses.dataclass
class Grant:
    tenant: str
    role: str
    client_id: str
    user_level: str
    user_context: bool
    expires_at: float

    @property
    def may_write(self):
        return self.user_context and self.user_level not in (None, "HELPDESK")


class Tokens:
    def __init__(self):
        self._lock = threading.Lock()
        self._grants = {}

    def issue(self, tenant, tenant_id, role, client, ttl):
        token = secrets.token_urlsafe(48)
        grant = Grant(tenant, role, client["client_id"], client["user_level"], client["user_context"], time.time() + ttl)
        with self._lock:
            if len(self._grants) >= MAX_GRANTS:
                # A long run would otherwise keep every token it ever issued; expired ones then read as invalid.
                self._grants = {key: value for key, value in self._grants.items() if value.expires_at > time.time()}
            self._grants[token] = grant
        body = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(ttl),
            "scope": READ_SCOPE + (" " + WRITE_SCOPE if grant.may_write else ""),
            "tenant_id": tenant_id,
            "pod": "emu01-useast1",
            "org": tenant,
            "jti": str(uuid.uuid4()),
        }
        if client["user_context"]:
            body.update({"user_id": _derive(0, tenant, role, "user", 32), "identity_id": _derive(0, tenant, role, "identity", 32)})
        return body

    def check(self, authorization, tenant):
        """(Grant, None) for a good bearer token of this tenant, else (None, the 401 message)."""
        scheme, _separator, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "JWT validation failed: JWT is missing"
        with self._lock:
            grant = self._grants.get(token.strip())
        if grant is None or grant.tenant != tenant:
            return None, "JWT validation failed: JWT is invalid"
        if grant.expires_at <= time.time():
            return None, "JWT validation failed: JWT is expired"
        return grant, None

    def expire(self, tenant):
        now = time.time()
        with self._lock:
            for grant in self._grants.values():
                if grant.tenant == tenant:
                    grant.expires_at = min(grant.expires_at, now)

    def forget(self, tenant):
        with self._lock:
            self._grants = {token: grant for token, grant in self._grants.items() if grant.tenant != tenant}
