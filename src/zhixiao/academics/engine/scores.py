"""Score tables in, checked: one row per student and subject (school, class, student_id, subject, score,
full_marks; an empty score means absent). Every problem is found before anything is used, and named by row
and column in Chinese; nothing is half read. Vectorised checks (polars), no loop over rows."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import polars as pl

COLUMNS = ("school", "class", "student_id", "subject", "score", "full_marks")
COLUMN_LABELS = {
    "school": "学校",
    "class": "班级",
    "student_id": "考号",
    "subject": "科目",
    "score": "分数",
    "full_marks": "满分",
}
# Chinese headers schools type in their own sheets
HEADER_ALIASES = {
    "学校": "school",
    "班级": "class",
    "考号": "student_id",
    "学号": "student_id",
    "学籍号": "student_id",
    "科目": "subject",
    "学科": "subject",
    "分数": "score",
    "成绩": "score",
    "得分": "score",
    "满分": "full_marks",
}
# 缺考 / 免考 / 作弊 written in the score cell: not a number, not an error
STATUS_WORDS = {"缺考": "absent", "缺": "absent", "免考": "exempt", "免": "exempt", "作弊": "cheating"}
MAX_ERRORS = 200  # a broken file of 50,000 rows should not print 50,000 lines


class ScoreError(ValueError):
    """Bad score data; `errors` lists every problem (in Chinese) naming row and column."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Scores:
    """Checked scores: one row per student and subject, columns school, class, student_id, subject,
    score (Float64; null when absent or exempt, 0 for cheating), full_marks (Float64), status (sat / absent /
    exempt / cheating)."""

    frame: pl.DataFrame

    @property
    def subjects(self) -> list[str]:
        """Subjects in the order they first appear."""
        return self.frame.get_column("subject").unique(maintain_order=True).to_list()


def read_scores_csv(source: str | os.PathLike[str] | bytes) -> Scores:
    """A CSV file (UTF-8, with or without BOM, or GB18030 as Excel saves it in China) → checked Scores."""
    data = source if isinstance(source, bytes) else open(source, "rb").read()  # noqa: SIM115
    if not data.strip():
        raise ScoreError(["文件是空的"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ScoreError(
                ["文件不是 UTF-8 或 GBK 编码的文本（是不是把 Excel 文件改了扩展名？请另存为 CSV）"]
            ) from None
    try:
        raw = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise ScoreError([f"无法读取 CSV：{str(exc).splitlines()[0]}"]) from None
    return check_scores(raw)


def check_scores(raw: pl.DataFrame) -> Scores:
    """Strings in (as read from a file or a grid), checked Scores out; ScoreError listing every problem."""
    raw = raw.rename({c: HEADER_ALIASES.get(c.strip(), c.strip()) for c in raw.columns})
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        names = "、".join(f"{c}（{COLUMN_LABELS[c]}）" for c in missing)
        raise ScoreError([f"缺少列：{names}；需要的列为 {', '.join(COLUMNS)}"])
    if raw.height == 0:
        raise ScoreError(["文件只有表头，没有成绩"])
    df = raw.select(
        pl.int_range(2, raw.height + 2).alias("row"),  # the file's line (line 1 is the header)
        *[pl.col(c).cast(pl.Utf8).str.strip_chars().alias(c) for c in COLUMNS],
    )
    errors: list[str] = []

    def add(frame: pl.DataFrame, message: str) -> None:
        for rec in frame.head(MAX_ERRORS - len(errors)).iter_rows(named=True):
            errors.append(message.format(**rec))

    for c in ("school", "class", "student_id", "subject"):
        add(df.filter(pl.col(c).is_null() | (pl.col(c) == "")), f"第 {{row}} 行 {c}（{COLUMN_LABELS[c]}）列为空")
    text_score = pl.col("score").fill_null("")
    status = text_score.replace_strict(STATUS_WORDS, default=None, return_dtype=pl.Utf8)
    number = pl.col("score").str.replace("分$", "").cast(pl.Float64, strict=False)
    full = pl.col("full_marks").cast(pl.Float64, strict=False)
    df = df.with_columns(
        pl.when(text_score == "").then(pl.lit("absent")).otherwise(status).alias("_status"),
        number.alias("_score"),
        full.alias("_full"),
    )
    add(
        df.filter(pl.col("_full").is_null()),
        "第 {row} 行 full_marks（满分）列：“{full_marks}”不是数字",
    )
    add(df.filter(pl.col("_full") <= 0), "第 {row} 行 full_marks（满分）列：满分应大于 0，实为 {full_marks}")
    not_number = df.filter(pl.col("_status").is_null() & pl.col("_score").is_null())
    add(not_number, "第 {row} 行 score（分数）列：“{score}”不是数字（缺考请留空或写“缺考”）")
    scored = df.filter(pl.col("_score").is_not_null())
    add(scored.filter(~pl.col("_score").is_finite()), "第 {row} 行 score（分数）列：“{score}”不是有效分数")
    add(scored.filter(pl.col("_score") < 0), "第 {row} 行 score（分数）列：分数 {score} 是负数")
    add(
        scored.filter(pl.col("_full").is_not_null() & (pl.col("_score") > pl.col("_full"))),
        "第 {row} 行 score（分数）列：分数 {score} 超过满分 {full_marks}",
    )
    # one row per student and subject
    dup = df.filter(pl.len().over("student_id", "subject") > 1)
    if dup.height:
        groups = (
            dup.group_by("student_id", "subject", maintain_order=True)
            .agg(pl.col("row").sort())
            .with_columns(pl.col("row").cast(pl.List(pl.Utf8)).list.join("、").alias("rows"))
        )
        add(groups, "考号 {student_id} 的 {subject} 成绩重复（第 {rows} 行）")
    # a student is in one school and class
    moved = (
        df.group_by("student_id", maintain_order=True)
        .agg(pl.struct("school", "class").n_unique().alias("n"), pl.col("row").min().alias("row"))
        .filter(pl.col("n") > 1)
    )
    add(moved, "考号 {student_id} 出现在不同的学校或班级（首次在第 {row} 行）")
    # a subject has one full mark
    fulls = (
        df.filter(pl.col("_full").is_not_null())
        .group_by("subject", maintain_order=True)
        .agg(pl.col("_full").unique().sort().alias("fulls"))
        .filter(pl.col("fulls").list.len() > 1)
        .with_columns(
            pl.col("fulls")
            .list.eval(pl.element().cast(pl.Utf8).str.replace(r"\.0$", ""))
            .list.join("、")
            .alias("values")
        )
    )
    add(fulls, "科目 {subject} 的满分不一致：{values}")
    if errors:
        if len(errors) >= MAX_ERRORS:
            errors.append(f"……问题太多，只列出前 {MAX_ERRORS} 条")
        raise ScoreError(errors)
    frame = df.select(
        "school",
        "class",
        "student_id",
        "subject",
        # 作弊: that subject counts as 0 (the usual rule); 缺考 and 免考 are left out of the figures
        pl.when(pl.col("_status").is_null())
        .then(pl.col("_score"))
        .when(pl.col("_status") == "cheating")
        .then(pl.lit(0.0))
        .alias("score"),
        pl.col("_full").alias("full_marks"),
        pl.col("_status").fill_null("sat").alias("status"),
    )
    return Scores(frame)
