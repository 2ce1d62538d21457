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


def settled(page, probe: str = "() => document.body.innerText", tries: int = 30) -> object:
    """Wait until the page stops changing and return the probe's value then.

    A page opened from a link may run twice (its first run writes the filters into the URL), and between the
    two runs the script state reads "not running": so the probe must read the same twice, a moment apart.
    """
    idle(page)
    seen = page.evaluate(probe)
    for _ in range(tries):
        page.wait_for_timeout(700)
        idle(page)
        again = page.evaluate(probe)
        if again == seen:
            return seen
        seen = again
    return seen


def tiles(page) -> dict[str, str]:
    """The KPI tiles of the page once its runs have finished: label → shown value."""
    page.locator('[data-testid="stMetric"]').first.wait_for()
    settled(page, "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]')?.innerText")
    out = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip().lstrip("●○ ").strip()
        out[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out
