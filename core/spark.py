"""The one way MDS starts a local Spark session (loads, batch scoring, audience selection).

Local mode on this machine's cores; the Python workers run this interpreter, the UI is off, the driver
starts with the C1 JIT and the serial GC (a short-lived local driver starts faster and uses less CPU).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["local_spark"]

_LOCK = threading.Lock()  # getOrCreate is not safe to race from two threads


def local_spark(master: str = "local[2]", *, app: str = "mds", progress: bool = False, batch_rows: int = 10_000,
                partition_bytes: int | None = None, driver_memory: str = "2g") -> SparkSession:
    """A quiet Spark session (an existing one in this process is reused by Spark itself)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "true" if progress else "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
               .config("spark.driver.memory", driver_memory)
               .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.pyspark.python", sys.executable))
    if partition_bytes is not None:
        builder = builder.config("spark.sql.files.maxPartitionBytes", str(partition_bytes))
    with _LOCK:
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
