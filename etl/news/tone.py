"""Tone of a mention toward its institution (placeholder: always neutral until the rule layer below is written)."""

from __future__ import annotations

from dataclasses import dataclass

from etl.news.matching import Match


@dataclass(frozen=True)
class Tone:
    label: str  # negative, neutral or positive
    score: float  # in [-1, 1]


def tone_of(text: str, own: list[Match], others: list[Match]) -> Tone:
    return Tone("neutral", 0.0)
