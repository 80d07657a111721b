"""Admin searches that cannot take the site down: bounded in words and length.

A 1,000-word search made SQLite refuse the query (a 500): each word is another condition
on every search field. NUL bytes, which PostgreSQL refuses, never reach it (CleanInput).
"""

from django.contrib import admin, messages

MAX_SEARCH_WORDS = 10
MAX_SEARCH_LENGTH = 200


class BoundedSearch:
    """Mixed into every ModelAdmin, ours and the libraries' (bound_every_search): a longer
    search uses its first words and says so."""

    def get_search_results(self, request, queryset, search_term):
        words = search_term[:MAX_SEARCH_LENGTH].split()
        if len(words) > MAX_SEARCH_WORDS or len(search_term) > MAX_SEARCH_LENGTH:
            messages.warning(
                request,
                f"Searches use at most {MAX_SEARCH_WORDS} words and {MAX_SEARCH_LENGTH} "
                "characters: the rest were left out.",
            )
            search_term = " ".join(words[:MAX_SEARCH_WORDS])
        return super().get_search_results(request, queryset, search_term)


def bound_every_search(site: admin.AdminSite) -> None:
    """Every registered ModelAdmin, re-registered with BoundedSearch mixed in."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, BoundedSearch):
            continue
        bounded = type(
            f"Bounded{type(model_admin).__name__}", (BoundedSearch, type(model_admin)), {}
        )
        site.unregister(model)
        site.register(model, bounded)
