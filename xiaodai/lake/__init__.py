"""The lake: lake feeds of the data contract (transactions, contact history, channel leads) kept as Parquet
partitioned by month, written and read by DuckDB; the app database never holds them."""
