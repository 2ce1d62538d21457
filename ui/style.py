"""The app's own stylesheet: a compact header so the five questions fit on a 1366×768 screen, even KPI tiles,
and Chinese words in place of Streamlit's built-in English ones (the file chooser, the running indicator).

Streamlit has no locale setting for its own widgets, so the Chinese mode hides their English text and draws
ours with CSS ``content``. Only our own fixed text goes in here, never anything from the data.
"""

from __future__ import annotations

import streamlit as st

_LAYOUT = """
[data-testid="stMainBlockContainer"] { padding: 1.25rem 1.75rem 3rem 1.75rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.7rem; padding: 0 0 0.2rem 0; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.35rem; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.15rem; padding-top: 0.6rem; }
[data-testid="stHeader"] { height: 2.25rem; background: transparent; }
/* The ⋮ menu holds only developer actions (print, record screen, theme) in English: readers do not need it. */
[data-testid="stMainMenu"] { display: none; }
[class*="st-key-tile_"] { min-height: 12.25rem; padding: 0.6rem 0.75rem !important; gap: 0.3rem; }
[class*="st-key-tile_"] [data-testid="stMetricValue"] { font-size: 1.7rem; line-height: 1.25; }
[class*="st-key-tile_"] [data-testid="stMetricLabel"] div, [class*="st-key-tile_"] [data-testid="stMetricLabel"] p {
  white-space: normal; overflow: visible; text-overflow: clip;
}
[class*="st-key-tile_"] [data-testid="stMetricValue"] > div { overflow: visible; text-overflow: clip; }
[class*="st-key-tile_"] [data-testid="stMetricDelta"] { flex-wrap: wrap; white-space: normal; }
[class*="st-key-tile_"] [data-testid="stMetricDelta"] > div { overflow: visible; text-overflow: clip; white-space: normal; }
[class*="st-key-tile_"] [data-testid="stCaptionContainer"] { line-height: 1.45; }
[class*="st-key-tile_"] [data-testid="stCaptionContainer"] span { white-space: normal !important; }
.st-key-scope_line { row-gap: 0.25rem; }
.st-key-scope_line button { min-height: 1.9rem; padding: 0 0.6rem; }
[class*="st-key-board_"] button { min-height: 1.6rem; padding: 0; justify-content: flex-start; }
[class*="st-key-board_"] button p { text-align: left; }
"""

#: Streamlit's English in its own widgets, replaced in the Chinese mode.
_CHINESE = """
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0 !important; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "可将文件拖放到此处 · 每个文件不超过 200 MB · CSV、Excel、Parquet、JSON Lines、XES"; font-size: 0.875rem;
}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { font-size: 0 !important; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "选择文件"; font-size: 0.875rem;
}
[data-testid="stStatusWidget"] button { font-size: 0 !important; }
[data-testid="stStatusWidget"] button::after { content: "停止"; font-size: 0.875rem; }
"""


def apply(lang: str) -> None:
    """Add the stylesheet to this run (a style-only st.html takes no room on the page)."""
    css = _LAYOUT + (_CHINESE if lang == "zh" else "")
    st.html(f"<style>{css}</style>")
