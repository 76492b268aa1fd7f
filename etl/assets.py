"""Names the DAGs share: the Asset URI of each warehouse table a DAG fills, and the owner.

Plain strings, so DAG files can import this at parse time without pulling in
pandas or SQLAlchemy.
"""

OWNER = "pantau-data-eng"


def table_uri(table: str) -> str:
    """The Asset URI of a warehouse table."""
    return f"pantau://warehouse/{table}"


#: Tables social_metrics announces once a day is loaded.
SOCIAL_TABLES = ("dim_post", "fact_account_daily", "fact_post_metrics_daily")

#: Tables news_mentions announces after each run.
NEWS_TABLES = ("fact_news_article", "fact_news_mention")
