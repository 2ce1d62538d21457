"""The one bilingual text type, and the errors that carry their message as one."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from errors import BilingualError
from reports.content import NoDataForMonth
from store.db import DatabaseBusy, StorageError
from text import CLAUSE_SEP, COLON, COMMA, FULL_STOP, LIST_SEP, NOTE, SENTENCE_GAP, Text, in_language


def test_text_reads_in_a_language_chinese_by_default():
    words = Text("办件量", "Cases")
    assert words("zh") == words.get("zh") == words() == words.get() == "办件量"
    assert words("en") == words.get("en") == "Cases"
    assert words("fr") == "Cases"  # any language but Chinese reads English, as the pages always chose


def test_text_is_frozen_and_a_value():
    words = Text("办件量", "Cases")
    with pytest.raises(dataclasses.FrozenInstanceError):
        words.zh = "x"
    assert words == Text("办件量", "Cases") and len({words, Text("办件量", "Cases")}) == 1


def test_text_formats_both_languages_at_once():
    template = Text("{n} 件（{share:.0%}）", "{n} cases ({share:.0%})")
    assert template.format(n=3, share=0.5) == Text("3 件（50%）", "3 cases (50%)")
    assert NOTE("zh").format("办件量", "320") == "办件量（320）" and NOTE("en").format("Cases", "320") == "Cases (320)"
    assert template("en").format(n="{x}", share=1) == "{x} cases (100%)"  # a value's braces are not a template


def test_text_from_words_records_and_tables():
    assert Text.same("民政办") == Text("民政办", "民政办")
    finding = {"text_zh": "民政办等待最久", "text_en": "民政办 waits longest", "share": 0.4}
    assert Text.of(finding, "text")("en") == "民政办 waits longest"
    assert Text.fields("reason") == Text("reason_zh", "reason_en")
    table = {"cases": Text("办件量", "Cases"), "month": Text("月份", "Month")}
    assert in_language(table, "zh") == {"cases": "办件量", "month": "月份"}
    assert in_language(table, "en") == {"cases": "Cases", "month": "Month"}


def test_the_languages_punctuation():
    assert LIST_SEP("zh").join("甲乙") == "甲、乙" and LIST_SEP("en").join("ab") == "a, b"
    assert CLAUSE_SEP("zh") == "；" and CLAUSE_SEP("en") == "; "
    assert COMMA("zh") == "，" and COLON("zh") == "：" and COLON("en") == ": "
    assert FULL_STOP("zh") == "。" and FULL_STOP("en") == ". "
    assert SENTENCE_GAP("zh") == "" and SENTENCE_GAP("en") == " "


def test_storage_busy_and_no_data_are_bilingual_errors_with_their_messages():
    full = StorageError(Path("/data/egov.duckdb"), "IO Error: No space left on device\nand more")
    assert isinstance(full, BilingualError)
    assert full.message_zh == "磁盘空间已满：/data/egov.duckdb。本次操作未作任何修改。"
    assert full.message_en == full.message("en") == "the disk is full: /data/egov.duckdb. Nothing was changed."
    assert str(full) == f"{full.message_zh} ({full.message_en}) [IO Error: No space left on device]"
    assert full.text == Text(full.message_zh, full.message_en)

    busy = DatabaseBusy(Path("/data/egov.duckdb"), 12.4)
    assert isinstance(busy, BilingualError)
    assert busy.message("zh") == "数据库正被另一个程序占用（如命令行导入或备份），已等待 12 秒，请稍后再试"
    assert busy.message_en == ("the database is held by another program (a command-line ingest or backup); waited 12 s")
    assert str(busy) == f"{busy.message_zh} ({busy.message_en}): /data/egov.duckdb"

    empty = NoDataForMonth("2026-10", None, None)
    assert isinstance(empty, BilingualError) and isinstance(empty, ValueError) and empty.month == "2026-10"
    assert empty.message() == "2026-10 没有办件数据：数据库中还没有任何办件，请先导入"
    assert empty.message("en") == "no cases in 2026-10: the database has no cases yet; load data first"
    assert str(empty) == f"{empty.message_zh} ({empty.message_en})"
    other = NoDataForMonth("2026-10", dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert other.message_zh == "2026-10 没有办件数据；现有数据的申请日期为 2026-01-01 至 2026-03-31"
    assert other.message_en == "no cases submitted in 2026-10; the data covers 2026-01-01 to 2026-03-31"


@pytest.mark.parametrize(
    ("exc", "first_words"),
    [
        (StorageError(Path("/data/egov.duckdb"), "Permission denied"), "错误 (error): 数据目录只读"),
        (DatabaseBusy(Path("/data/egov.duckdb"), 5), "错误 (error): 数据库正被另一个程序占用"),
        (NoDataForMonth("2026-10", None, None), "错误 (error): 2026-10 没有办件数据"),
        (BilingualError("文件无法读取", "the file cannot be read"), "已拒绝 (refused): 文件无法读取"),
    ],
)
def test_the_command_line_still_tells_a_failure_from_a_refusal(monkeypatch, capsys, exc, first_words):
    import cli

    def failing(_args):
        raise exc

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=failing)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith(first_words)
    if not isinstance(exc, (StorageError, DatabaseBusy, NoDataForMonth)):
        return
    assert err.strip() == f"错误 (error): {exc.message_zh} ({exc.message_en})"  # the messages, not str()'s detail
