"""The lake as the commands see it: the pipeline definition, the device-id key file, the Athena
DDL, the local query engine and the run report. Below the commands and the local runtime;
above only glue_jobs.shared and scripts._cli."""
