"""Independent reference implementations that the tests compare the Glue jobs with: the zone
rules in DuckDB SQL (zones_duckdb) and the landing rules in plain Python (landing_python)."""
