"""Public help-center pages."""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from helpcenter import selectors


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "helpcenter/home.html", {"categories": selectors.categories_for_home()})


@login_not_required
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug)
    if category is None:
        raise Http404
    return render(request, "helpcenter/category.html", {"category": category})


@login_not_required
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    return render(request, "helpcenter/search.html", {"query": query})
