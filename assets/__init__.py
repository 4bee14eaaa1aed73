"""Software-defined assets, one per stage, each partitioned by model version. Thin: they call deploysim/."""
