"""Outbound HTTP that must never reach our own network (webhook deliveries).

The check is made on the address actually connected to: a resolver that drops every refused
address (so a name that resolves to 127.0.0.1, or flips to it after registration — DNS
rebinding — gets nowhere), and a look at literal addresses, which aiohttp connects to without
asking any resolver."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from consentry.domain.webhooks import IPNetwork, literal_address, refused


class RefusedAddress(aiohttp.ClientConnectionError):
    """The receiver's address is one deliveries may not reach."""


class GuardedResolver(AbstractResolver):
    def __init__(self, allowed: tuple[IPNetwork, ...]) -> None:
        self.allowed = allowed
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        kept = [r for r in found if not _refused_text(r["host"], self.allowed)]
        if not kept:
            raise RefusedAddress("the receiver's address is not allowed")
        return kept

    async def close(self) -> None:
        await self._inner.close()


def _refused_text(host: str, allowed: tuple[IPNetwork, ...]) -> bool:
    address = literal_address(host)
    return address is None or refused(address, allowed)


def check_url(url: str, allowed: tuple[IPNetwork, ...]) -> None:
    """Refuse a URL whose host is a refused literal address, in any spelling (names are
    checked when resolved)."""
    host = urlsplit(url).hostname or ""
    address = literal_address(host)
    if address is not None and refused(address, allowed):
        raise RefusedAddress("the receiver's address is not allowed")
