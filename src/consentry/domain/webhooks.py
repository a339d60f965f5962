"""Webhook delivery rules: which changes an endpoint wants, and when a failed delivery is tried
again — exponential back-off with jitter for up to three days, then the dead-letter list — and
which addresses a delivery may never reach."""

from __future__ import annotations

import ipaddress
import random
import socket
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SECOND = 1_000_000
# The first retries come quickly (a receiver restarting), then ever more slowly.
BACKOFF = [5, 30, 120, 600, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600]


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    types: frozenset[str]  # empty: every type
    purposes: frozenset[str]  # empty: every purpose (within the owning app's binding)
    app_purposes: frozenset[str]  # the owning app's purposes ("*": all)
    active: bool
    app_id: str = ""

    def wants(
        self, change_type: str, purpose: str | None, audience: frozenset[str] | None = None
    ) -> bool:
        """``audience``: the apps a change is addressed to (an erasure reminder goes only to
        the apps that have not confirmed it), or None for every app."""
        if not self.active or (self.types and change_type not in self.types):
            return False
        if audience is not None and self.app_id not in audience:
            return False
        if purpose is None:  # erasure, restriction: every endpoint is told
            return True
        if "*" not in self.app_purposes and purpose not in self.app_purposes:
            return False
        return not self.purposes or purpose in self.purposes


def next_attempt(
    attempts: int, first_attempt_at: int, now: int, retry_for: int, rng: random.Random
) -> int | None:
    """When to try again after ``attempts`` failed tries, or None: give up (dead letter).
    Jitter (±20 %) keeps many failed deliveries from coming back at the same instant."""
    delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)] * SECOND
    at = now + int(delay * rng.uniform(0.8, 1.2))
    if at - first_attempt_at > retry_for:
        return None
    return at


# -- where deliveries may go


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """CONSENTRY_WEBHOOK_ALLOW_NETWORKS: comma-separated CIDRs (empty: none)."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def legacy_ipv4(host: str) -> IPAddress | None:
    """An IPv4 address in any spelling inet_aton accepts (``127.1``, ``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``): resolvers read them so, and so must the guard."""
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally, if it names one."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return legacy_ipv4(host)


def refused(address: IPAddress, allowed: tuple[IPNetwork, ...]) -> bool:
    """Whether a delivery to ``address`` must not be made: anything not on the public internet
    (loopback, private, link-local and the cloud metadata service, CGNAT, multicast,
    unspecified, reserved, documentation), IPv4-mapped IPv6 judged as its IPv4 address;
    unless an operator allowed its network (on-premises receivers)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return False
    return not address.is_global or address.is_multicast
