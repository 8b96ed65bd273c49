"""The one Spark session every computekyc engine uses (usage accounting, account linking).

Spark fixes a session's static settings (jars, driver memory) when the JVM starts, and
``getOrCreate`` hands every later caller that same session. If usage started a session without
Splink's similarity functions, linking on Spark in the same process would fail, or the other way
round the time zone would differ; so all static settings live here, set once for both.
"""

from __future__ import annotations

from typing import Any

DEFAULT_MASTER = "local[2]"


def spark_session(master: str | None = None) -> Any:
    """The process's SparkSession on ``master`` (the settings' ``spark_master``, from
    ``$COMPUTEKYC_SPARK_MASTER``) or ``local[2]``. The first call starts it: later calls get
    that session whatever master they name."""
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

    url = master or DEFAULT_MASTER
    jar = similarity_jar_location()
    session = (
        SparkSession.builder.master(url)
        .appName("computekyc")
        # Splink's string-similarity UDFs (Jaro-Winkler…) for linking on Spark.
        .config("spark.jars", jar)
        .config("spark.driver.memory", "2g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Epoch seconds and UTC timestamps mean the same thing as in DuckDB.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    if jar not in session.sparkContext.getConf().get("spark.jars", ""):
        raise RuntimeError(
            "a Spark session without Splink's similarity functions is already running in this "
            "process: stop it, or start it with computekyc.spark.spark_session()"
        )
    return session
