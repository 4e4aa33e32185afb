"""The matrix: from the answers present to a suggested rating.

The sum of the weights of present, non-contextual risk factors gives the score; a factor heavy
enough to be decisive on its own (a non-mobile baby with an injury, a registered sex offender)
makes the rating high whatever else is answered. "Not known" answers do not score: they are
intelligence gaps to be closed, not risks.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .models import Rating

DECISIVE_WEIGHT = 8
HIGH_SCORE = 10
MEDIUM_SCORE = 4


class Scored(Protocol):
    weight: int
    contextual: bool
    value: str


def risk_score(answers: Iterable[Scored]) -> int:
    return sum(answer.weight for answer in answers if answer.value == "yes" and not answer.contextual)


def suggested_rating(answers: Iterable[Scored]) -> str:
    present = [answer for answer in answers if answer.value == "yes" and not answer.contextual]
    score = sum(answer.weight for answer in present)
    if score >= HIGH_SCORE or any(answer.weight >= DECISIVE_WEIGHT for answer in present):
        return Rating.HIGH
    if score >= MEDIUM_SCORE:
        return Rating.MEDIUM
    return Rating.STANDARD
