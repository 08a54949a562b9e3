"""Who is asking, for rate limits: the peer address, or where a trusted proxy says the
request came from; and the JSON API's answer when the limit is reached.

X-Forwarded-For is the client's to write: believed only when the peer is one of the
configured proxies, and then read from the right, past every trusted hop, so that a
client cannot choose its own address by prepending one.
"""

import ipaddress
from collections.abc import Sequence

from fastapi import Request

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
API_TOO_MANY = "För många förfrågningar på kort tid. Vänta och försök igen (se Retry-After)."


def networks(addresses: str) -> tuple[IPNetwork, ...]:
    """ "10.0.0.1, 10.1.0.0/16" → the networks; a bad entry raises ValueError."""
    items = [item.strip() for item in addresses.split(",") if item.strip()]
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(request: Request, trusted: Sequence[IPNetwork]) -> str:
    """The address the rate limit counts: the peer, unless the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",")]
    for hop in reversed(hops):
        if hop and not _trusted(hop, trusted):
            return hop
    return peer
