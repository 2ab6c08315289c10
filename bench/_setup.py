"""Shared start-up for the benchmarks: Django on a private database and index."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONTENT = ROOT / "helpcenter" / "demo_content"
CASES = ROOT / "tests" / "helpcenter" / "relevance_cases.yaml"


def setup_django(*, database_url: str | None = None) -> Path:
    """Configure Django with the test settings in a fresh folder; return the folder."""
    sys.path.insert(0, str(ROOT))
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "support_portal.settings.test"
    os.environ["TEST_VAR_DIR"] = str(folder)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.setdefault("REDIS_URL", "")
    # The benchmark is one very busy visitor: no rate limit.
    os.environ["API_ANON_RATE"] = os.environ["API_USER_RATE"] = "100000000/minute"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.bare_urls"
    settings.ALLOWED_HOSTS = ["*"]
    return folder


def import_demo_content() -> None:
    from helpcenter.demo import seed_synonyms
    from helpcenter.importing import import_folder
    from helpcenter.search.indexing import index_translations

    report = import_folder(DEMO_CONTENT)
    index_translations(report.changed_translations)
    seed_synonyms()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(function, repeat: int) -> list[float]:
    """Milliseconds per call."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def bare_view_ms(client, repeat: int = 1000) -> float:
    """Median time of a bare view through the full middleware stack: the yardstick."""
    client.get("/bare")
    return statistics.median(timed(lambda: client.get("/bare"), repeat))


def describe(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples):7.2f} ms   p95 {percentile(samples, 0.95):7.2f} ms   "
        f"max {max(samples):7.2f} ms   (n={len(samples)})"
    )
