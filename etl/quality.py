"""The validation gate: one Great Expectations suite per canonical frame.

Suites live in ``expectations/<frame>.json`` (GX 1.x suite JSON).  Rows that
fail any row-level expectation are split off with the names of the
expectations they failed, for ``etl_quarantine``; when more than the allowed
share of a batch fails, :class:`QualityGateFailed` says which suite and which
expectations, so the task log explains the failure on its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import structlog

from etl.errors import DataError
from etl.settings import PROJECT_ROOT

log = structlog.get_logger(__name__)
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
ROW_ID = "_pantau_row"


class QualityGateFailed(DataError):
    """Too much of a batch failed its suite; the bad rows are already in quarantine. Deterministic: the same
    landing fails the same way, so the task fails without retries."""


@dataclass
class Validation:
    """A frame split by its suite."""

    suite: str
    valid: pd.DataFrame
    quarantined: pd.DataFrame  # the frame's columns plus ``failed_expectations``
    failed_counts: dict[str, int]

    @property
    def total(self) -> int:
        return len(self.valid) + len(self.quarantined)


@lru_cache(maxsize=1)
def _context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # noqa: PLC0415 - heavy import, only when validating

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


@cache
def _batch_definition(frame: str) -> Any:
    source = _context().data_sources.add_or_update_pandas(f"pantau_{frame}")
    asset = source.add_dataframe_asset(frame)
    return asset.add_batch_definition_whole_dataframe(f"{frame}_batch")


def _suite_spec(frame: str, directory: Path) -> dict[str, Any]:
    """The suite file of ``frame`` (GX 1.x suite JSON), parsed."""
    return json.loads((directory / f"{frame}.json").read_text(encoding="utf-8"))


@cache
def load_suite(frame: str, directory: Path = EXPECTATIONS_DIR) -> Any:
    """The GX ExpectationSuite for ``frame`` from its JSON file, built once per process (validating does not change
    it): building it again for every batch cost 5-25 ms, as much as validating a small batch (issue 11)."""
    import great_expectations as gx  # noqa: PLC0415

    _context()  # GX resolves suites against the active context
    spec = _suite_spec(frame, directory)
    suite = gx.ExpectationSuite(name=spec["name"])
    for config in spec["expectations"]:
        expectation_class = gx.expectations.registry.get_expectation_impl(config["type"])
        suite.add_expectation(expectation_class(**config["kwargs"], meta=config.get("meta") or {}))
    return suite


@cache
def suite_columns(frame: str, directory: Path = EXPECTATIONS_DIR) -> frozenset[str]:
    """Every name the suite of ``frame`` mentions in its expectations' arguments (columns, row conditions).

    GX is handed only the frame's columns among these: it fingerprints every batch by hashing the whole frame, and
    the raw ``record`` JSON, which no expectation reads, was most of what it hashed. A value that happens to equal a
    column name (in a value set) only keeps that column: never too few columns, at most one too many.
    """
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            names.add(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for config in _suite_spec(frame, directory)["expectations"]:
        walk(config["kwargs"])
    return frozenset(names)


def _vectorisable(df: pd.DataFrame) -> pd.DataFrame:
    """The frame GX checks: nullable integers (Int64) as float64, NULL as NaN.

    GX 1.x compares numpy int/float columns vectorised but maps a Python function over every value
    of an extension dtype: 3 us a value, most of the suite's time at national scale (issue 11).
    Counters stay exact as float64 below 2**53; the rows handed on keep their Int64 values.
    """
    nullable = {c: "float64" for c, dtype in df.dtypes.items() if isinstance(dtype, pd.core.arrays.integer.IntegerDtype)}
    return df.astype(nullable) if nullable else df


def _failed_rows(frame: str, work: pd.DataFrame, suite: Any) -> Any:
    """GX's results for ``suite`` on ``work``, with the failing rows' ids for every expectation that failed.

    The whole suite runs first as a yes/no check (BOOLEAN_ONLY: only unexpected counts); the expectations
    that failed run again with COMPLETE results to list their rows. A clean batch, the common case, thus
    skips the unexpected-value and row-index metrics: ~40% of the suite's time (issue 11).
    """
    import great_expectations as gx  # noqa: PLC0415

    batch = _batch_definition(frame).get_batch(batch_parameters={"dataframe": _vectorisable(work)})
    result = batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"})
    failed = [outcome.expectation_config for outcome in result.results if not outcome.success]
    if not failed:
        return result
    again = gx.ExpectationSuite(name=suite.name)
    for config in failed:
        again.add_expectation(config.to_domain_obj())
    return batch.validate(
        again,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID], "return_unexpected_index_query": False},
    )


def describe(expectation_type: str, kwargs: dict[str, Any]) -> str:
    """A short readable name for a failed expectation: type and column."""
    column = kwargs.get("column") or ",".join(kwargs.get("column_list", []) or [])
    return f"{expectation_type}({column})" if column else expectation_type


def validate_or_hold(frame: str, df: pd.DataFrame, *, max_bad_share: float, source: str) -> tuple[Validation, QualityGateFailed | None]:
    """Validate ``df``; when the gate fails, still return the split so the bad rows can be quarantined before raising."""
    try:
        return validate_frame(frame, df, max_bad_share=max_bad_share, source=source), None
    except QualityGateFailed as exc:
        return exc.validation, exc  # type: ignore[attr-defined]


def validate_frame(frame: str, df: pd.DataFrame, *, max_bad_share: float = 0.5, source: str = "?") -> Validation:
    """Validate ``df`` with the suite of ``frame``; split good from bad rows.

    Raises :class:`QualityGateFailed` when the share of bad rows is above
    ``max_bad_share``; the caller quarantines ``exc.validation.quarantined``.
    """
    suite = load_suite(frame)
    if df.empty:
        return Validation(suite.name, df, df.assign(failed_expectations=pd.Series(dtype="object")), {})
    work = df.reset_index(drop=True)
    work[ROW_ID] = range(len(work))
    checked = suite_columns(frame)
    result = _failed_rows(frame, work[[c for c in work.columns if c in checked or c == ROW_ID]], suite)
    failures: dict[int, list[str]] = {}
    failed_counts: dict[str, int] = {}
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        name = describe(config.type, dict(config.kwargs))
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"suite {suite.name}: expectation {name} could not run: {outcome.exception_info.get('exception_message')}"
            )
        rows = [entry[ROW_ID] for entry in outcome.result.get("unexpected_index_list") or []]
        if not rows:
            # A table-level expectation failed: the whole batch is suspect.
            rows = list(range(len(work)))
        failed_counts[name] = len(rows)
        for row in rows:
            failures.setdefault(int(row), []).append(name)
    bad_mask = work[ROW_ID].isin(failures.keys())
    valid = work.loc[~bad_mask].drop(columns=[ROW_ID])
    quarantined = work.loc[bad_mask].copy()
    quarantined["failed_expectations"] = [json.dumps(failures[int(r)]) for r in quarantined[ROW_ID]]
    quarantined = quarantined.drop(columns=[ROW_ID])
    validation = Validation(suite.name, valid, quarantined, failed_counts)
    if len(quarantined):
        log.warning(
            "rows quarantined",
            **{"source": source, "suite": suite.name, "rows": len(quarantined), "of": len(work), "failed": failed_counts},
        )
    share = len(quarantined) / len(work)
    if share > max_bad_share:
        listed = ", ".join(f"{k} ({v} rows)" for k, v in sorted(failed_counts.items()))
        error = QualityGateFailed(
            f"source={source} suite {suite.name}: {len(quarantined)} of {len(work)} rows failed "
            f"({share:.0%} > {max_bad_share:.0%} allowed); failing expectations: {listed}; "
            "the rows are in etl_quarantine"
        )
        error.validation = validation  # type: ignore[attr-defined]
        raise error
    return validation
