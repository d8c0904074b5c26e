"""Development tooling: the Glue script generator, the benchmark and the workflow picture."""
