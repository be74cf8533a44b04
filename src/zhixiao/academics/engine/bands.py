"""Grade bands (等级) for students and guardians, who see bands instead of ranks: 优秀 at or above the
excellent line, 良好 at or above the midpoint of the excellent and pass lines, 及格 at or above the pass line,
待及格 below it. Lines are percentages of full marks; 作弊 counts as 0 like in the figures."""

from __future__ import annotations

import polars as pl

BANDS = ("excellent", "good", "pass", "below")


def band_expr(score: str, full: str, excellent: str, passing: str) -> pl.Expr:
    """The band of each row (null where there is no score), compared in percent × full marks like analyse()."""
    v, f, e, p = pl.col(score), pl.col(full), pl.col(excellent), pl.col(passing)
    return (
        pl.when(v.is_null())
        .then(None)
        .when(v * 100 >= f * e)
        .then(pl.lit("excellent"))
        .when(v * 200 >= f * (e + p))
        .then(pl.lit("good"))
        .when(v * 100 >= f * p)
        .then(pl.lit("pass"))
        .otherwise(pl.lit("below"))
    )
