"""The same metrics on Apache Spark: the metrics' DuckDB SQL transpiled (:mod:`spark.dialect`) and run over a lake.

Nothing here is imported by the town's app: pyspark and sqlglot are the ``spark`` extra (requirements-spark.txt).
"""
