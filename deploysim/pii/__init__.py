"""PII and secret detection for the de-identification stage."""
