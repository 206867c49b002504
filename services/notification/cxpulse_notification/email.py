"""SMTP e-mail delivery (stdlib smtplib): multipart/alternative with plain text and HTML; STARTTLS, implicit
TLS and login as configured. One connection per message: alerts are few, and nothing goes stale between them."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .notice import Notice
from .policy import AttemptResult, classify_smtp
from .routes import Target
from .settings import NotificationSettings
from .templates import email_parts


def build_message(notice: Notice, target: Target, sender: str, dashboard_url: str = "") -> EmailMessage:
    subject, text, html = email_parts(notice, target.subject_prefix, dashboard_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = target.recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="cxpulse.invalid")
    message["X-Cxpulse-Alert-Id"] = notice.alert_id  # the idempotency key, for mail filters
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class EmailClient:
    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings

    def send(self, notice: Notice, target: Target) -> AttemptResult:
        s = self.settings
        message = build_message(notice, target, s.smtp_from, s.dashboard_url)
        try:
            smtp_class = smtplib.SMTP_SSL if s.smtp_ssl else smtplib.SMTP
            with smtp_class(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
                if s.smtp_starttls and not s.smtp_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return classify_smtp(code, reply.decode(errors="replace"))
        except smtplib.SMTPResponseException as exc:
            return classify_smtp(exc.smtp_code, exc.smtp_error.decode(errors="replace")
                                 if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:  # connection refused, timeout, TLS, disconnect
            return AttemptResult(False, True, error=f"{exc.__class__.__name__}: {exc}"[:300])
        return AttemptResult(ok=True, status_code=250)
