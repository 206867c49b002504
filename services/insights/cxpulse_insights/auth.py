"""Access to the dashboard, its API and its event stream: HTTP basic auth for people (the browser asks once and
sends the credentials on every request, the event stream included) and a bearer token for machines, both from
secrets in the environment; constant-time comparisons; only /healthz answers without credentials (401 otherwise).
The authenticated user is left on the request (request[USER]): label corrections record it.

    INSIGHTS_AUTH_USERS="ana:s3cret,bob:0ther"   # basic auth users (user:password, comma-separated)
    INSIGHTS_AUTH_TOKEN="..."                     # bearer token; recorded as INSIGHTS_AUTH_TOKEN_USER (api)
    INSIGHTS_AUTH_DISABLED=true                   # only for a dashboard on a trusted loopback (tests, demos)

Without users or a token and without INSIGHTS_AUTH_DISABLED the service refuses to start (it says why)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

OPEN_PATHS = frozenset({"/healthz"})
USER = web.RequestKey("user", str)  # the authenticated user, on every request past the middleware
REALM = "cxpulse insights"


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHTS_AUTH_", frozen=True, extra="ignore")

    users: SecretStr | None = None  # "user:password,user2:password2"
    token: SecretStr | None = None
    token_user: str = "api"  # who a bearer-token request is recorded as
    disabled: bool = False


class AuthConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Auth:
    """Credentials as bytes (compared with hmac.compare_digest, which takes the same time wherever they differ)."""

    users: dict[str, bytes] = field(default_factory=dict)
    token: bytes | None = None
    token_user: str = "api"

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> Auth | None:
        """None when auth is disabled on purpose; AuthConfigError when nothing is configured."""
        if settings.disabled:
            return None
        users: dict[str, bytes] = {}
        if settings.users is not None:
            for pair in settings.users.get_secret_value().split(","):
                user, sep, password = pair.strip().partition(":")
                if not sep or not user or not password:
                    raise AuthConfigError("INSIGHTS_AUTH_USERS: expected user:password[,user:password...]")
                users[user] = password.encode()
        token = settings.token.get_secret_value().encode() if settings.token is not None else None
        if not users and not token:
            raise AuthConfigError("the dashboard needs credentials: set INSIGHTS_AUTH_USERS (user:password,...) "
                                  "and/or INSIGHTS_AUTH_TOKEN, or INSIGHTS_AUTH_DISABLED=true on a trusted loopback")
        return cls(users, token, settings.token_user)

    def user(self, header: str | None) -> str | None:
        """The user an Authorization header proves, else None."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme == "bearer" and self.token is not None:
            return self.token_user if hmac.compare_digest(value.encode(), self.token) else None
        if scheme == "basic" and self.users:
            try:
                user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            known = self.users.get(user)
            # Compare against something even for an unknown user, so timing does not tell which users exist.
            ok = hmac.compare_digest(password.encode(), known if known is not None else b"\0" * 16)
            return user if sep and known is not None and ok else None
        return None


def middleware(auth: Auth | None) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
        if auth is None:
            request[USER] = "anonymous"
            return await handler(request)
        if request.path in OPEN_PATHS:
            return await handler(request)
        user = auth.user(request.headers.get("Authorization"))
        if user is None:
            challenges = ([f'Basic realm="{REALM}", charset="UTF-8"'] if auth.users else []) + (
                [f'Bearer realm="{REALM}"'] if auth.token else [])
            return web.json_response({"error": "authentication required"}, status=401,
                                     headers={"WWW-Authenticate": ", ".join(challenges)})
        request[USER] = user
        return await handler(request)

    return check
