"""Helpers shared by the Playwright tests."""

from __future__ import annotations


def idle(page) -> None:
    """Wait until the app has finished its run (no "running" indicator), so all of a page is drawn."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=90_000)


def tiles(page) -> dict[str, str]:
    """The KPI tiles of the page once its run has finished: label → shown value."""
    page.locator('[data-testid="stMetric"]').first.wait_for()
    idle(page)
    out = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip().lstrip("●○ ").strip()
        out[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out
