"""deploysim: forecast a release's behaviour on real traffic before it ships.

Plain, typed domain code. Nothing in this package imports Dagster; the assets in
``assets/`` are thin wrappers around it.
"""
