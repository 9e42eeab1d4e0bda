"""Clients, OAuth client-credentials tokens shaped as ISC's JWTs, and their checks."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
import uuid

# role -> (user level, user context); only a user whose authorities include ORG_ADMIN may PATCH.
ROLES = {"admin": ("ORG_ADMIN", True), "api": (None, False), "helpdesk": ("HELPDESK", True)}
WRITE_AUTHORITIES = ("ORG_ADMIN",)
SCOPE = "sp:scopes:all"
POD = "emu01-useast1"
MAX_GRANTS = 10_000
JWT_HEADER = {"alg": "HS256", "typ": "JWT"}


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
    """The role whose credentials match, or None; constant-time on the secret, whatever characters it has."""
    for role, client in clients.items():
        if client["client_id"] == client_id and hmac.compare_digest(client["client_secret"].encode("utf-8"), (client_secret or "").encode("utf-8")):
            return role
    return None


class BadClientAuth(ValueError):
    """HTTP Basic client credentials that cannot be read."""


def basic_credentials(authorization):
    """(client_id, client_secret) from an ``Authorization: Basic`` header (RFC 6749 2.3.1), or None without one."""
    scheme, _separator, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise BadClientAuth("the Basic credentials are not base64 of UTF-8 text") from None
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise BadClientAuth("the Basic credentials have no ':' between client id and secret")
    # Both halves are form-encoded before base64, so a secret may hold ':' and any character.
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(client_secret)


@dataclasses.dataclass
class Grant:
    tenant: str
    role: str
    client_id: str
    claims: dict
    expires_at: float

    @property
    def may_write(self):
        """What ISC checks before a PATCH, read from the claims the client can read too."""
        return "identity_id" in self.claims and any(authority in WRITE_AUTHORITIES for authority in self.claims.get("authorities", ()))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_for(tenant, tenant_uuid, role, client, ttl, now):
    """The payload ISC puts in a client-credentials token: user claims only for a client with user context."""
    claims = {
        "tenant_id": tenant_uuid,
        "pod": POD,
        "org": tenant,
        "client_id": client["client_id"],
        # A client's scopes can be narrowed on the control surface; the source operations check them.
        "scope": list(client.get("scopes", [SCOPE])),
        "authorities": [client["user_level"]] if client["user_level"] else [],
        "iat": int(now),
        "exp": int(now + ttl),
        "jti": str(uuid.uuid4()),
    }
    if client["user_context"]:
        claims.update(
            {
                "internal": True,
                "identity_id": _derive(0, tenant, role, "identity", 32),
                "user_name": "%s.%s" % (tenant, role),
            }
        )
    return claims


class Tokens:
    """Signs tokens with a key of this process and remembers each by its jti, so expiry can be forced."""

    def __init__(self):
        self._lock = threading.Lock()
        self._grants = {}
        self._key = secrets.token_bytes(32)
        self._header = _b64url(json.dumps(JWT_HEADER, separators=(",", ":")).encode())

    def _sign(self, signing_input):
        return _b64url(hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def issue(self, tenant, tenant_uuid, role, client, ttl):
        now = time.time()
        claims = claims_for(tenant, tenant_uuid, role, client, ttl, now)
        signing_input = self._header + "." + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        token = signing_input + "." + self._sign(signing_input)
        grant = Grant(tenant, role, client["client_id"], claims, now + ttl)
        with self._lock:
            if len(self._grants) >= MAX_GRANTS:
                # A long run would otherwise keep every token it ever issued; expired ones then read as invalid.
                self._grants = {key: value for key, value in self._grants.items() if value.expires_at > time.time()}
            self._grants[claims["jti"]] = grant
        body = {"access_token": token, "token_type": "bearer", "expires_in": int(ttl), "scope": " ".join(claims["scope"])}
        body.update({key: claims[key] for key in ("tenant_id", "pod", "org", "jti")})
        if client["user_context"]:
            body.update({key: claims[key] for key in ("internal", "identity_id", "user_name")})
            body["user_id"] = _derive(0, tenant, role, "user", 32)
        return body

    def _verified_jti(self, token):
        """The jti of a token this emulator signed, or None."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != self._header:
            return None
        if not hmac.compare_digest(self._sign(parts[0] + "." + parts[1]).encode("ascii"), parts[2].encode("ascii", "replace")):
            return None
        try:
            claims = json.loads(_unb64url(parts[1]))
        except (binascii.Error, ValueError):
            return None
        return claims.get("jti") if isinstance(claims, dict) else None

    def check(self, authorization, tenant):
        """(Grant, None) for a good bearer token of this tenant, else (None, the 401 message)."""
        scheme, _separator, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "JWT validation failed: JWT is missing"
        jti = self._verified_jti(token.strip())
        with self._lock:
            grant = self._grants.get(jti) if jti else None
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
            self._grants = {jti: grant for jti, grant in self._grants.items() if grant.tenant != tenant}
