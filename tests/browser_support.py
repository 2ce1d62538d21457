"""Helpers shared by the Playwright tests."""

from __future__ import annotations


def idle(page) -> None:
    """Wait until the app has finished its run, so all of a page is drawn.

    Streamlit's own script state on the app root (what its end-to-end tests read) says when the run is
    over; the "running" indicator alone is not enough: it shows only once a run has gone on for a
    moment, so a look too early finds no indicator while tiles are still arriving.
    """
    page.wait_for_timeout(300)  # a click's rerun request reaches the server
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=90_000)
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
