"""The routing file: named recipients (webhooks, Slack-compatible webhooks, e-mail lists) and ordered routes
from an alert's kind/team/rule/severity to recipients. Validated completely at start; errors name the place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

SEVERITIES = ("info", "warning", "critical")
KINDS = ("alert", "escalation")


class RoutesError(ValueError):
    """The routing file is missing, unreadable or invalid; the message says where and why."""


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Webhook(_Strict):
    type: Literal["webhook", "slack"]  # slack: {"text": ..., "blocks": [...]} instead of the alert as JSON
    url: str | None = None
    url_env: str | None = None  # environment variable holding the URL (Slack URLs are secrets themselves)
    secret_env: str | None = None  # environment variable holding the HMAC secret; required for type webhook
    timeout_s: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Webhook:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url[:30]!r}")
        if self.type == "webhook" and not self.secret_env:
            raise ValueError("a webhook needs secret_env (the environment variable holding its signing secret)")
        return self


class Email(_Strict):
    type: Literal["email"]
    to: list[str] = Field(min_length=1)
    subject_prefix: str = "[cxpulse]"

    @field_validator("to")
    @classmethod
    def _addresses(cls, to: list[str]) -> list[str]:
        bad = [a for a in to if "@" not in a or " " in a.strip()]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}")
        return [a.strip() for a in to]


Recipient = Annotated[Webhook | Email, Field(discriminator="type")]


class Match(_Strict):
    """Each field: one value or a list; absent or "*" matches anything."""

    kind: str | list[str] = "*"
    team: str | list[str] = "*"
    rule: str | list[str] = "*"
    severity: str | list[str] = "*"

    @model_validator(mode="after")
    def _known(self) -> Match:
        for name, known in (("kind", KINDS), ("severity", SEVERITIES)):
            unknown = set(_as_list(getattr(self, name))) - {*known, "*"}
            if unknown:
                raise ValueError(f"{name}: unknown {sorted(unknown)} (one of {list(known)})")
        return self

    def matches(self, facts: dict[str, str]) -> bool:
        return all("*" in (want := _as_list(getattr(self, field))) or facts[field] in want
                   for field in ("kind", "team", "rule", "severity"))


class Route(_Strict):
    name: str = ""
    match: Match = Field(default_factory=Match)
    notify: list[str] = Field(min_length=1)


class RoutesFile(_Strict):
    recipients: dict[str, Recipient] = Field(min_length=1)
    routes: list[Route] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> RoutesFile:
        for i, route in enumerate(self.routes):
            unknown = [name for name in route.notify if name not in self.recipients]
            if unknown:
                raise ValueError(f"routes[{i}] ({route.name or 'unnamed'}): unknown recipients {unknown} "
                                 f"(known: {sorted(self.recipients)})")
        return self


@dataclass(frozen=True)
class Target:
    """One delivery destination: the channel, who (webhook name or e-mail address) and how to reach it."""

    channel: str  # webhook, slack or email
    recipient: str
    url: str = ""
    secret: SecretStr | None = None
    timeout_s: float | None = None
    subject_prefix: str = ""

    def __repr__(self) -> str:  # never the URL (may embed a token) or the secret
        return f"Target({self.channel}:{self.recipient})"


class Router:
    def __init__(self, spec: RoutesFile, env: dict[str, str]) -> None:
        self.spec = spec
        self.targets: dict[str, list[Target]] = {name: _targets(name, r, env) for name, r in spec.recipients.items()}

    def route(self, facts: dict[str, str]) -> list[Target]:
        """Targets of the first route matching `facts` (kind, team, rule, severity); [] when none does."""
        for route in self.spec.routes:
            if route.match.matches(facts):
                seen: dict[tuple[str, str], Target] = {}
                for name in route.notify:
                    for target in self.targets[name]:
                        seen.setdefault((target.channel, target.recipient), target)
                return list(seen.values())
        return []


def _targets(name: str, recipient: Webhook | Email, env: dict[str, str]) -> list[Target]:
    def from_env(var: str, what: str) -> str:
        if not env.get(var):
            raise RoutesError(f"recipient {name!r}: environment variable {var} ({what}) is not set")
        return env[var]

    if isinstance(recipient, Email):
        return [Target("email", address, subject_prefix=recipient.subject_prefix) for address in recipient.to]
    url = recipient.url or from_env(recipient.url_env or "", "its URL")
    secret = SecretStr(from_env(recipient.secret_env, "its signing secret")) if recipient.secret_env else None
    return [Target(recipient.type, name, url, secret, recipient.timeout_s)]


def load_router(path: Path, env: dict[str, str] | None = None) -> Router:
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RoutesError(f"routing file {path}: cannot read it: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RoutesError(f"routing file {path}: not valid YAML: {exc}") from exc
    try:
        spec = RoutesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'top level'}: {e['msg']}" for e in exc.errors())
        raise RoutesError(f"routing file {path}: {problems}") from None
    try:
        return Router(spec, dict(os.environ) if env is None else env)
    except RoutesError as exc:
        raise RoutesError(f"routing file {path}: {exc}") from None
