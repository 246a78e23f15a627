"""The two batch engines behind one ibis connection: embedded DuckDB (default) and Apache Spark.

Spark is optional (`xiaodai[spark]`, ~0.5 GB with its jars) and needs Java; XIAODAI_SPARK_MASTER picks the
cluster (default `local[2]`, this machine's two cores). One SparkSession serves the whole process.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xiaodai.pipeline.choices import Engine
from xiaodai.pipeline.exceptions import PipelineError


def default_engine() -> str:
    return os.environ.get("XIAODAI_PIPELINE_ENGINE", Engine.DUCKDB).strip() or Engine.DUCKDB


def spark_problem() -> str:
    """Why Spark cannot run here, or "" when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (install the optional group: xiaodai[spark])"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Spark needs Java 17 or later (java on PATH or JAVA_HOME)"
    return ""


_spark: Any = None


def spark_session() -> Any:
    global _spark
    if _spark is None:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no network lookups for the local driver
        from pyspark.sql import SparkSession

        _spark = (
            SparkSession.builder.master(os.environ.get("XIAODAI_SPARK_MASTER", "local[2]"))
            .appName("xiaodai-pipeline")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", os.environ.get("XIAODAI_SPARK_PARTITIONS", "8"))
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate()
        )
        _spark.sparkContext.setLogLevel("ERROR")
    return _spark


@contextmanager
def connect(engine: str) -> Iterator[Any]:
    import ibis

    if engine == Engine.DUCKDB:
        from xiaodai.lake.paths import temp_dir

        # Bounded memory whatever the branch's size: DuckDB spills to the lake's temporary folder beyond it.
        spill = temp_dir()
        spill.mkdir(parents=True, exist_ok=True)
        memory = os.environ.get("XIAODAI_DUCKDB_MEMORY", "2GB").strip() or "2GB"
        con = ibis.duckdb.connect(memory_limit=memory, temp_directory=str(spill))
        try:
            yield con
        finally:
            con.disconnect()
    elif engine == Engine.SPARK:
        problem = spark_problem()
        if problem:
            raise PipelineError(problem)
        yield ibis.pyspark.connect(spark_session())
    else:
        raise PipelineError(f"unknown engine {engine!r}: use duckdb or spark")


def read_inputs(con: Any, files: dict[str, Path], prefix: str) -> dict[str, Any]:
    """Each snapshot file as an ibis table; `prefix` keeps runs in one Spark session apart."""
    return {name: con.read_parquet(str(path), table_name=f"{prefix}_{name}") for name, path in files.items()}
