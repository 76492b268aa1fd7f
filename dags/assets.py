"""The warehouse tables DAGs hand over through: one Asset per table a DAG fills."""

from airflow.sdk import Asset

DIM_AGENCY = Asset("pantau://warehouse/dim_agency")
DIM_ACCOUNT = Asset("pantau://warehouse/dim_account")
DIM_POST = Asset("pantau://warehouse/dim_post")
FACT_ACCOUNT_DAILY = Asset("pantau://warehouse/fact_account_daily")
FACT_POST_METRICS_DAILY = Asset("pantau://warehouse/fact_post_metrics_daily")
AGENCY_DAILY_INDICATORS = Asset("pantau://warehouse/agency_daily_indicators")

SOCIAL_TABLES = [DIM_POST, FACT_ACCOUNT_DAILY, FACT_POST_METRICS_DAILY]
OWNER = "pantau-data-eng"
