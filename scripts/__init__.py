"""Tooling for the STEDI lakehouse: local Glue runtime, runner, generator, deploy and DDL tools."""
