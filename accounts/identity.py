"""One spelling per mailbox: the canonical form every email comparison uses. Pure functions.

Comparing addresses case-insensitively in the database is not safe: PostgreSQL's UPPER()
turns a dotless "ı" into "I", so `teacher@ıvybridge.example` would match
`teacher@ivybridge.example`. Instead each address is stored once in canonical form (the
domain IDNA-encoded, then everything NFKC-normalised and case-folded) and compared exactly.
"""

import unicodedata


def _ascii_domain(domain: str) -> str:
    """The domain as the DNS knows it (xn--… for a non-ASCII label); ValueError if none."""
    domain = domain.strip().rstrip(".")
    if not domain:
        raise ValueError("no domain")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("not a domain name") from None


# What an address may come to (RFC 5321), which is also the stored key's column size: an
# international domain grows when it is written as xn--.
MAX_LENGTH = 254


def canonical_email(address: str) -> str:
    """The canonical form of an address; ValueError when it has no usable domain, or when
    written as the DNS knows it, it is longer than an address may be."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        raise ValueError("not an email address")
    ascii_domain = _ascii_domain(domain).casefold()
    key = f"{unicodedata.normalize('NFKC', local).casefold()}@{ascii_domain}"
    if len(ascii_domain) > 253 or len(key) > MAX_LENGTH:
        raise ValueError("too long")
    return key


def canonical_email_or_none(address: str) -> str | None:
    """For lookups of what a person typed: an address that cannot be canonical matches no one."""
    try:
        return canonical_email(address)
    except ValueError:
        return None


def ascii_email(address: str) -> str:
    """The address with its domain as the DNS knows it, so a look-alike domain shows itself
    (`teacher@xn--vybridge-skb.example`); as it was when it has no usable domain."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    try:
        return f"{local}@{_ascii_domain(domain)}"
    except ValueError:
        return address
