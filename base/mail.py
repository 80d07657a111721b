"""What a mail server's refusal means for the next try."""

import smtplib


def refused_for_good(exc: Exception) -> bool:
    """A 5xx answer about the address: sending again later would be refused again, so the
    mail is noted as not deliverable rather than tried every minute or hour for ever. A 4xx
    answer (try later), or no answer, is not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500
