"""The Spark session the commands run on: local mode by default, a cluster by ``--master``, Spark Connect by
``SPARK_REMOTE`` (``sc://host:15002``); settings that make Spark SQL mean what DuckDB's does.

- ``spark.sql.session.timeZone=UTC``: the data's times are naive local times; in UTC they are read and compared
  as they are written (``unix_micros``, ``date_trunc``, casts to DATE).
- ``spark.sql.ansi.enabled=false``: a division by zero is NULL, as in DuckDB (the catalogue guards with
  ``nullif`` anyway).
- ``spark.sql.sources.partitionColumnTypeInference.enabled=false``: the lake's ``town=…`` and ``month=…`` stay
  text (a town named ``2024`` is not a number).
"""

from __future__ import annotations

import os
from typing import Any

#: The settings every session gets (see the module's docstring).
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
#: Local mode only: a small machine's session (no web UI, few shuffle partitions, the driver's memory).
LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": os.environ.get("EGOV_SPARK_DRIVER_MEMORY", "4g"),
    # the JVM's log quiet from its first line (setLogLevel comes after the start-up warnings)
    "spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile={os.path.join(os.path.dirname(__file__), 'log4j2.properties')}",
}


class SparkUnavailable(RuntimeError):
    """pyspark or Java is not installed (the plain town installation has neither)."""


def start(master: str | None = None, app_name: str = "egov-monitor") -> Any:
    """A SparkSession: Spark Connect when ``SPARK_REMOTE`` is set, else ``master`` (default ``local[*]``)."""
    try:
        import warnings

        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            "pyspark is not installed: run `bash scripts/setup.sh spark` (it installs Java and pyspark)"
        ) from exc
    remote = os.environ.get("SPARK_REMOTE")
    builder = SparkSession.builder.appName(app_name)
    if remote:
        builder = builder.remote(remote)
        settings = SETTINGS
    else:
        if not _java_found():
            raise SparkUnavailable(
                "Java is not installed: run `bash scripts/setup.sh spark` (Debian's openjdk-17-jre-headless)"
            )
        builder = builder.master(master or "local[*]")
        settings = SETTINGS | (LOCAL_SETTINGS if (master or "local").startswith("local") else {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def _java_found() -> bool:
    import shutil

    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and os.path.exists(os.path.join(home, "bin", "java"))))
