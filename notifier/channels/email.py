"""The "email" channel: SMTP when NOTIFIER_SMTP_URL is set, else .eml files on disk.

Both take outbox messages whose subject and bodies are filled in (notifications are
rendered by the sender just before, ticket forwards arrive that way). The message is
built in mime.py, sent in smtp.py or written in files.py; this module wires them from
the settings.
"""

from notifier.channels.files import FileChannel
from notifier.channels.mime import Composer
from notifier.channels.return_path import ReturnPath
from notifier.channels.signing import DkimKey
from notifier.channels.smtp import SmtpChannel, default_helo_name, parse_smtp_url
from notifier.settings import Settings


def composer(settings: Settings, return_path: ReturnPath | None = None) -> Composer:
    """Reads the DKIM key, if any: a missing key file stops the service at start."""
    domain = settings.mail_from.rpartition("@")[2]
    dkim = None
    if settings.dkim_selector and settings.dkim_key_file:
        dkim = DkimKey.load(
            selector=settings.dkim_selector, domain=domain, key_file=settings.dkim_key_file
        )
    return Composer(
        settings.mail_from,
        display_name=settings.mail_from_name,
        dkim=dkim,
        return_path=return_path.sender_of if return_path else None,
    )


def email_channel(
    settings: Settings, return_path: ReturnPath | None = None
) -> SmtpChannel | FileChannel:
    """`return_path`: each message's own envelope sender, where bounces come back to us."""
    sender = composer(settings, return_path)
    if settings.smtp_url:
        helo = settings.smtp_helo_name or default_helo_name(sender.domain)
        config = parse_smtp_url(settings.smtp_url, helo_name=helo)
        return SmtpChannel(
            config, sender, timeout=settings.smtp_timeout, connections=settings.smtp_connections
        )
    return FileChannel(settings.mail_dir, sender)


def return_path(settings: Settings, key: bytes) -> ReturnPath | None:
    """Each email's own envelope sender, where bounces come back: only with a reply domain."""
    return ReturnPath(key, settings.reply_domain) if settings.reply_domain else None
