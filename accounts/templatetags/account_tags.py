from django import template

from accounts.identity import ascii_email as _ascii_email

register = template.Library()


@register.filter
def ascii_email(address: str) -> str:
    """The address with its domain as the DNS knows it: a look-alike shows as xn--…."""
    return _ascii_email(address or "")
