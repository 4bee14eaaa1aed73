"""Software-defined assets, one module per group, each asset's checks beside it.

Thin: they call deploysim/."""

import warnings

import dagster as dg

# Partitioned asset checks are a preview feature in this Dagster release; they behave as documented.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
