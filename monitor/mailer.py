"""Sending email over SMTP (STARTTLS, SSL or plain on a trusted network), multipart text + HTML."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from monitor.errors import MonitorError
from monitor.settings import Settings


class MailError(MonitorError):
    """The mail server could not be reached or refused the message (never includes the password)."""


def mail_configured(settings: Settings) -> bool:
    """True when an SMTP server and a sender are set."""
    return bool(settings.smtp_host and settings.smtp_from)


def build_message(sender: str, to: list[str], subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative message with a plain-text and an HTML part."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_mail(settings: Settings, to: list[str], subject: str, text: str, html: str) -> None:
    """Send one message to `to`; raise MailError with a sentence the IT person can act on."""
    if not mail_configured(settings):
        raise MailError("email is not configured: set SMTP_HOST and SMTP_FROM in .env")
    if not to:
        raise MailError("no recipients configured for this email in the policy file")
    message = build_message(settings.smtp_from, to, subject, text, html)
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
    try:
        if settings.smtp_security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"the mail server {host}:{port} refused the user name or password (code {exc.smtp_code})"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"the mail server {host}:{port} refused the message (code {exc.smtp_code})") from None
    except smtplib.SMTPServerDisconnected as exc:
        if "timed out" in str(exc):
            raise MailError(f"the mail server {host}:{port} did not answer within {timeout:g} s") from None
        raise MailError(f"the mail server {host}:{port} closed the connection unexpectedly") from None
    except smtplib.SMTPException as exc:
        raise MailError(f"mail to {host}:{port} failed: {type(exc).__name__}") from None
    except TimeoutError:
        raise MailError(f"the mail server {host}:{port} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise MailError(f"cannot reach the mail server {host}:{port}: {exc.strerror or exc}") from None
