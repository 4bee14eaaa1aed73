"""Dagster wiring: partitions, resources, jobs and Definitions. Domain logic lives in deploysim/."""
