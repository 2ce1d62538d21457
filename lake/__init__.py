"""The lake: the county's data as Parquet for engines beyond one machine (issue 19). Imports store and metrics."""
