"""``pantau standings --campaign CODE``: a campaign's standings over its whole period, from the report_campaign_standings view.

Any campaign whose days were computed is there, however long ago it ended: the view keeps each campaign's latest
as-of day, which covers the whole period once that day is on or after the campaign's end.
"""

from __future__ import annotations

import sys

import pandas as pd

from etl.warehouse import Warehouse

STANDINGS_SQL = (
    "SELECT * FROM report_campaign_standings WHERE campaign_code = :code "
    "ORDER BY category, ranked DESC, rank_in_category, campaign_engagement DESC, agency_name"
)


class UnknownCampaign(LookupError):
    """The code names no campaign, or no standings were computed for it."""


def campaign_standings(warehouse: Warehouse, code: str) -> pd.DataFrame:
    """Every agency's row of the campaign's standings; raises UnknownCampaign with what to do."""
    campaign = warehouse.query("SELECT starts_on, ends_on FROM campaign WHERE campaign_code = :code", {"code": code})
    if not campaign:
        known = [row[0] for row in warehouse.query("SELECT campaign_code FROM campaign ORDER BY campaign_code")]
        raise UnknownCampaign(f"campaign {code!r} is not in the warehouse's campaign table (known: {', '.join(known) or 'none'})")
    standings = warehouse.query_df(STANDINGS_SQL, {"code": code})
    if standings.empty:
        starts_on, ends_on = campaign[0]
        raise UnknownCampaign(f"no standings computed for campaign {code!r} yet: run `pantau indicators --date {starts_on} --to {ends_on}`")
    return standings


def format_standings(standings: pd.DataFrame) -> str:
    """Plain text, one block per category: ranked agencies in order, then how many were not ranked and why."""
    first = standings.iloc[0]
    scope = "whole period" if first["period_complete"] else "so far (campaign still running)"
    lines = [f"{first['campaign_name']} ({first['campaign_code']}), {first['campaign_starts_on']} .. {first['campaign_ends_on']}: "
             f"standings as of {first['as_of_date']}, {scope}"]
    header = f"  {'#':>3}  {'agency':<48} {'score':>6} {'days':>5} {'posts':>6} {'engagement':>11} {'1st post':>9} {'coverage':>9}"
    for category, rows in standings.groupby("category", sort=True):
        ranked = rows[rows["ranked"].astype(bool)]
        lines += ["", category] + ([header] if not ranked.empty else [])
        for row in ranked.itertuples():
            late = "*" if row.data_started_late else ""
            first_post = "" if pd.isna(row.days_to_first_post) else f"{int(row.days_to_first_post)}{late}"
            lines.append(f"  {int(row.rank_in_category):>3}  {row.agency_name[:48]:<48} {row.dissemination_score:>6.1f} {int(row.days_active):>5} "
                         f"{int(row.campaign_posts):>6} {int(row.campaign_engagement):>11,} {first_post:>9} {row.mean_coverage:>9.0%}")
        reasons = rows.loc[~rows["ranked"].astype(bool), "exclusion_reason"].value_counts().sort_index()
        if not reasons.empty:
            lines.append("  not ranked: " + ", ".join(f"{n} {reason}" for reason, n in reasons.items()))
    lines += ["", "1st post: days from the campaign start, or from the agency's first day of data when later (*)"]
    return "\n".join(lines)


def main(code: str) -> int:
    from etl.pipeline import open_warehouse  # noqa: PLC0415

    warehouse = open_warehouse()
    try:
        print(format_standings(campaign_standings(warehouse, code)))
    except UnknownCampaign as exc:
        print(f"pantau: {exc}", file=sys.stderr)
        return 1
    finally:
        warehouse.dispose()
    return 0
