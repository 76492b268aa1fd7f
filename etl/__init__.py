"""Pantau: nightly ETL of government institutions' social-media metrics and news mentions."""
