"""Pages of lists whose links keep every other query parameter (filters, the search)."""

from __future__ import annotations

from django.http import HttpRequest

from helpcenter import selectors


def with_neighbour_queries(page, request: HttpRequest, param: str = "page"):
    """Give `page` the query strings of the previous and next page (empty when none)
    and `total_pages`, as the pagination template expects.

    `page` is a Django Page or a SearchPage (number, num_pages, has_previous(), has_next()).
    """
    paginator = getattr(page, "paginator", None)
    page.total_pages = paginator.num_pages if paginator is not None else page.num_pages
    for attribute, exists, number in (
        ("previous_query", page.has_previous, page.number - 1),
        ("next_query", page.has_next, page.number + 1),
    ):
        query = request.GET.copy()
        query[param] = str(number)
        setattr(page, attribute, query.urlencode() if exists() else "")
    return page


def page_for(request: HttpRequest, items, param: str = "page"):
    """A page of `items` (each list on a page has its own page parameter)."""
    return with_neighbour_queries(selectors.paginate(items, request.GET.get(param)), request, param)
