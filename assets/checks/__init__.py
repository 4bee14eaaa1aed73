"""Data-quality checks between stages. Blocking checks stop bad data flowing downstream."""

import warnings

import dagster as dg

# Partitioned asset checks are a preview feature in this Dagster release; they behave as documented.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
