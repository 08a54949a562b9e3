"""What the trusted relay found of a mail's sender: its `Authentication-Results` headers
(RFC 8601), those that carry the authserv-id NOTIFIER_INBOUND_AUTHSERV_ID names.

A header with that id written by the sender cannot help it: any `fail` among the
relay's results holds the reply, so a forged `pass` beside the relay's `fail` changes
nothing. The relay should still remove such headers (RFC 8601 §5). With the setting,
a mail with none of the relay's results did not come through it and is held too.
"""

import re
from email.message import EmailMessage

NO_RESULTS = "Mejlet saknar den betrodda mejlserverns kontroll av avsändaren."
FORGED = "Avsändarens domän underkänner mejlet (DMARC eller SPF)."
# The methods whose failure means the From cannot be believed. DKIM alone fails on
# ordinary forwarding, and softfail is a domain's own doubt: neither holds a reply.
_DECISIVE = {"dmarc": "fail", "spf": "fail"}
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"\s*([a-z0-9_-]+)\s*=\s*([a-z]+)")


def doubt(message: EmailMessage, trusted: str | None) -> str | None:
    """Why the relay's results cast doubt on the sender (Swedish, for the desk), or None.
    With no trusted relay configured there are none to read."""
    if not trusted:
        return None
    results = [
        methods
        for authserv_id, methods in map(_parse, _headers(message))
        if authserv_id == trusted.lower()
    ]
    if not results:
        return NO_RESULTS
    failing = any(
        found.get(method) == bad for found in results for method, bad in _DECISIVE.items()
    )
    return FORGED if failing else None


def _headers(message: EmailMessage) -> list[str]:
    return [
        str(value)
        for name, value in message.raw_items()
        if name.lower() == "authentication-results"
    ]


def _parse(value: str) -> tuple[str, dict[str, str]]:
    """(authserv-id, {method: result}) of one header, comments removed."""
    while _COMMENT.search(value):
        value = _COMMENT.sub("", value)
    first, *resinfos = value.replace("\r", " ").replace("\n", " ").split(";")
    authserv_id = (first.split() or [""])[0].lower()
    found: dict[str, str] = {}
    for resinfo in resinfos:
        if match := _RESULT.match(resinfo.lower()):
            found.setdefault(match[1], match[2])
    return authserv_id, found
