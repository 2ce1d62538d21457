"""Print the report's HTML to an A4 PDF with headless Chromium (Debian's ``chromium``).

Why Chromium: the PDF is then the same document as the HTML file — same tables, same Plotly
charts drawn by plotly.js — laid out by a real browser engine with CSS paged media (A4 pages,
repeated table headers, "第 N 页 / 共 M 页" footers). The print variant of the HTML uses TrueType
fonts (Liberation Sans for Latin, WenQuanYi Zen Hei for Chinese, Debian's fonts-wqy-zenhei):
Chromium embeds TrueType fonts as CID subsets that ``pdffonts`` names and every viewer renders,
whereas the CFF-based Noto Sans CJK would be written as unnamed Type 3 outlines.

Chromium is run as a subprocess (``--print-to-pdf``) with a fresh temporary profile, no network
use and a time limit, so a browser problem can never hang or crash the app; the file is printed
from a temporary directory and nothing is fetched (plotly.js is inside the HTML).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from errors import BilingualError

#: Where Debian installs Chromium; ``$EGOV_CHROMIUM`` overrides.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
TIMEOUT_SECONDS = 120
#: Headless Chromium as everything here starts it (the PDF printer, the browser tests, the benchmark):
#: no sandbox (the service may run as root in a container; the pages are our own), and no background
#: traffic, which a closed network refuses and which slows every start.
CHROMIUM_HEADLESS_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PRINT_ARGS = (
    *CHROMIUM_HEADLESS_ARGS,
    "--disable-extensions",
    "--no-pdf-header-footer",
    "--virtual-time-budget=15000",  # let plotly.js finish drawing before printing
)


class PdfUnavailable(BilingualError, RuntimeError):
    """PDF printing is impossible here (no Chromium) or failed; carries a Chinese and an English message."""


def chromium_path() -> str | None:
    """The Chromium executable, or None when there is none."""
    wanted = os.environ.get("EGOV_CHROMIUM")
    candidates = (wanted,) if wanted else CHROMIUM_CANDIDATES
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium")
    return None if wanted else found


def html_to_pdf(html: str, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The PDF bytes of ``html`` printed by headless Chromium (A4 from the page's own ``@page`` rule)."""
    exe = chromium_path()
    if exe is None:
        raise PdfUnavailable(
            "无法生成 PDF：本机没有安装 Chromium。请运行 bash scripts/setup.sh（会安装 chromium 与 fonts-wqy-zenhei）",
            "cannot make the PDF: Chromium is not installed; run bash scripts/setup.sh (installs chromium and "
            "fonts-wqy-zenhei)",
        )
    with tempfile.TemporaryDirectory(prefix="egov-pdf-") as tmp:
        folder = Path(tmp)
        page = folder / "report.html"
        out = folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            exe,
            *PRINT_ARGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--crash-dumps-dir={folder / 'crash'}",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        env = dict(os.environ, HOME=str(folder))  # Chromium writes caches under $HOME
        try:
            proc = subprocess.run(
                command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(
                f"生成 PDF 超时（{timeout:.0f} 秒）", f"printing the PDF took longer than {timeout:.0f} s"
            ) from exc
        except OSError as exc:
            raise PdfUnavailable(f"无法启动 Chromium：{exc}", f"cannot start Chromium: {exc}") from exc
        data = out.read_bytes() if out.exists() else b""
        if proc.returncode != 0 or not data.startswith(b"%PDF"):
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise PdfUnavailable(
                f"Chromium 未能生成 PDF（退出码 {proc.returncode}）：{tail[0][:200]}",
                f"Chromium did not print the PDF (exit code {proc.returncode}): {tail[0][:200]}",
            )
        return data
