"""Which addresses Vigil may fetch from: public ones only. The crawler's address guard and the re-checker
of flagged pages apply this one policy, to every request and every redirect hop, after DNS resolution."""
from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache

# Cloud metadata services: refused always, even for sources that allow private addresses.
METADATA_ADDRESSES = {"169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2"}
NEVER = "link-local or cloud metadata, never crawled"


def addresses_of(host: str) -> tuple[str, ...]:
    """The host's addresses (the host itself when it is an address); socket.gaierror when it does not resolve."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        return tuple(sorted({info[4][0] for info in socket.getaddrinfo(host, None)}))


@lru_cache(maxsize=4096)
def resolve(host: str) -> tuple[str, ...]:
    """addresses_of, remembered (a crawl asks about each host for every request); () when it does not resolve."""
    try:
        return addresses_of(host)
    except (socket.gaierror, UnicodeError):
        return ()


def non_public_reason(address: str) -> str | None:
    """Why an address must not be crawled (private, loopback, link-local incl. cloud metadata, ...), or None."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for attribute in ("is_loopback", "is_link_local", "is_private", "is_multicast", "is_reserved", "is_unspecified"):
        if getattr(ip, attribute):
            return attribute[3:].replace("_", "-")
    if not ip.is_global:  # shared address space, documentation ranges, ...
        return "not-global"
    return None


def refused_address(host: str, allow_private: bool,
                    addresses: tuple[str, ...] | None = None) -> tuple[str, str] | None:
    """The first of the host's addresses (given, or resolved) that may not be fetched, and why; None when all
    may be. allow_private (a source's allow_private_addresses, for local test sites) admits private and
    loopback addresses; link-local and cloud metadata addresses are refused always."""
    for address in resolve(host) if addresses is None else addresses:
        reason = non_public_reason(address)
        if address in METADATA_ADDRESSES or reason == "link-local":
            return address, NEVER
        if reason and not allow_private:
            return address, reason
    return None
