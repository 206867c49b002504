"""HTTP webhook delivery: signed JSON (or a Slack-compatible payload) with an idempotency key per alert."""

from __future__ import annotations

import httpx

from .notice import Notice
from .policy import AttemptResult, classify_http
from .routes import Target
from .signing import IDEMPOTENCY_HEADER, signed_headers
from .templates import slack_body, webhook_body


class WebhookClient:
    def __init__(self, timeout_s: float, dashboard_url: str = "") -> None:
        # One pooled client shared by the delivery threads (httpx clients are thread-safe). No redirects:
        # a 3xx is an answer like any other, reported, not followed.
        self.client = httpx.Client(timeout=timeout_s, follow_redirects=False,
                                   headers={"User-Agent": "cxpulse-notification/0.1"})
        self.timeout_s = timeout_s
        self.dashboard_url = dashboard_url

    def send(self, notice: Notice, target: Target) -> AttemptResult:
        body = slack_body(notice, self.dashboard_url) if target.channel == "slack" else webhook_body(notice)
        if target.secret is not None:
            headers = signed_headers(target.secret.get_secret_value().encode(), body, notice.alert_id)
        else:
            headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: notice.alert_id}
        try:
            response = self.client.post(target.url, content=body, headers=headers,
                                        timeout=target.timeout_s or self.timeout_s)
        except httpx.TimeoutException as exc:
            return AttemptResult(False, True, error=f"timeout: {exc.__class__.__name__}")
        except httpx.TransportError as exc:  # connection refused, reset, DNS, TLS
            return AttemptResult(False, True, error=f"connection error: {exc.__class__.__name__}: {exc}"[:300])
        return classify_http(response.status_code, response.headers.get("Retry-After"))

    def close(self) -> None:
        self.client.close()
