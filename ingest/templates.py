"""Template workbooks the upload page offers: the headers the automatic mapping knows, one example row."""

from __future__ import annotations

import io

import pandas as pd

#: The service catalogue's columns, as the template offers them, with one example row.
CATALOG_TEMPLATE: dict[str, object] = {
    "事项编码": "411323CL001",
    "事项名称": "最低生活保障申请",
    "实施部门": "民政办",
    "是否网上可办": "是",
    "是否全程网办": "否",
    "承诺时限（工作日）": 15,
    "法定时限（工作日）": 30,
    "最多跑动次数": 1,
}


def catalog_template_xlsx() -> bytes:
    """An empty 事项目录 workbook with the headers the automatic mapping knows, and one example row."""
    buffer = io.BytesIO()
    frame = pd.DataFrame([CATALOG_TEMPLATE])
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name="事项目录", index=False)
        writer.sheets["事项目录"].set_column(0, len(frame.columns) - 1, 18)
    return buffer.getvalue()
