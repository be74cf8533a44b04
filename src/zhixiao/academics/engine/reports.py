"""Printable PDF reports from an Analysis (reportlab, a system CJK font, no Django):

- `class_report_pdf`: one class beside its grade — per subject and the total, the class's figures and the
  grade's, a chart of score rates (class vs grade), then the class list (ranks only when `show_ranks`);
- `grade_report_pdf`: every class of the grade per subject and the total, a chart of the classes' mean score
  rates on the total, and the total's score bands;
- `report_card_pdf`: one student's scores with his band (优秀/良好/及格/待及格) and the class's mean for
  comparison — never another student's score, and a rank only when `show_rank` (the school's choice).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import polars as pl

from zhixiao.kernel.pdf_fonts import register_cjk_font

from .analysis import TOTAL, Analysis
from .bands import band_expr
from .items import score_bands

BAND_LABELS = {"excellent": "优秀", "good": "良好", "pass": "及格", "below": "待及格"}
STAT_HEADERS = ("人数", "平均分", "中位数", "标准差", "最高分", "最低分", "优秀率", "及格率", "低分率")


def _num(v: Any, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and v != v) else f"{v * 100:.1f}%"


def _figures(row: Mapping[str, Any]) -> list[str]:
    return [
        _num(row["count"]),
        _num(row["mean"], 2),
        _num(row["median"]),
        _num(row["std"], 2),
        _num(row["max"]),
        _num(row["min"]),
        _pct(row["excellent_rate"]),
        _pct(row["pass_rate"]),
        _pct(row["low_rate"]),
    ]


class _Doc:
    """The house style: A4, the CJK font, a title, tables with a grey header row."""

    def __init__(self, title: str, subtitle: str = "", landscape: bool = False):
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.pagesizes import landscape as turn
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

        self.font = register_cjk_font()
        self.colors, self.mm = colors, mm
        self.buffer = io.BytesIO()
        size = turn(A4) if landscape else A4
        self.doc = SimpleDocTemplate(
            self.buffer, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
            bottomMargin=12 * mm, title=title, author="智校",
        )  # fmt: skip
        self.width = size[0] - 24 * mm
        self.title_style = ParagraphStyle("t", fontName=self.font, fontSize=15, leading=20, spaceAfter=2)
        self.text_style = ParagraphStyle("p", fontName=self.font, fontSize=9, leading=13)
        self.head_style = ParagraphStyle("h", fontName=self.font, fontSize=11, leading=16, spaceBefore=6)
        self.story: list[Any] = [Paragraph(_esc(title), self.title_style)]
        if subtitle:
            self.story.append(Paragraph(_esc(subtitle), self.text_style))
        self.story.append(Spacer(1, 3 * mm))
        self._paragraph = Paragraph

    def heading(self, text: str) -> None:
        self.story.append(self._paragraph(_esc(text), self.head_style))

    def text(self, text: str) -> None:
        self.story.append(self._paragraph(_esc(text), self.text_style))

    def table(self, rows: list[list[str]], widths: list[float] | None = None, repeat: int = 1) -> None:
        from reportlab.platypus import Table, TableStyle

        t = Table(rows, colWidths=widths, repeatRows=repeat)
        t.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), self.font, 8),
                    ("BACKGROUND", (0, 0), (-1, repeat - 1), self.colors.HexColor("#eef1f4")),
                    ("GRID", (0, 0), (-1, -1), 0.3, self.colors.HexColor("#9aa4ad")),
                    ("ALIGN", (1, 0), (-1, -1), "CENTER"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        self.story.append(t)

    def bars(self, labels: list[str], series: list[list[float]], names: list[str], top: float = 100) -> None:
        """A grouped bar chart (values in % unless `top` says otherwise) with a legend."""
        from reportlab.graphics.charts.barcharts import VerticalBarChart
        from reportlab.graphics.charts.legends import Legend
        from reportlab.graphics.shapes import Drawing

        palette = [self.colors.HexColor("#2f6fb0"), self.colors.HexColor("#e39b3b"), self.colors.HexColor("#5a9e6f")]
        height = 60 * self.mm
        d = Drawing(self.width, height)
        chart = VerticalBarChart()
        chart.x, chart.y = 30, 28
        chart.width, chart.height = self.width - 120, height - 40
        chart.data = [[round(v, 1) for v in s] for s in series]
        chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
        chart.valueAxis.labels.fontName = self.font
        chart.categoryAxis.categoryNames = labels
        chart.categoryAxis.labels.fontName = self.font
        chart.categoryAxis.labels.fontSize = 7
        chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
        chart.categoryAxis.labels.dy = -8 if len(labels) > 8 else -2
        for i in range(len(series)):
            chart.bars[i].fillColor = palette[i % len(palette)]
        d.add(chart)
        legend = Legend()
        legend.x, legend.y = self.width - 80, height - 10
        legend.fontName = self.font
        legend.fontSize = 8
        legend.colorNamePairs = [(palette[i % len(palette)], n) for i, n in enumerate(names)]
        d.add(legend)
        self.story.append(d)

    def page_break(self) -> None:
        from reportlab.platypus import PageBreak

        self.story.append(PageBreak())

    def pdf(self) -> bytes:
        self.doc.build(self.story)
        return self.buffer.getvalue()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rows(a: Analysis, level: str, key: str | None = None) -> dict[str, dict[str, Any]]:
    f = a.stats.filter(pl.col("level") == level)
    if key is not None:
        f = f.filter(pl.col("key") == key)
    return {r["subject"]: r for r in f.iter_rows(named=True)} if key is not None or level == "all" else {}


def _full(a: Analysis, subject: str) -> float | None:
    if subject != TOTAL:
        return a.full_marks[subject]
    fulls = a.students.get_column("total_full").drop_nulls()
    usual = fulls.mode().max() if fulls.len() else None  # the usual total (免考 students have less)
    return float(usual) if isinstance(usual, int | float) else None


def _rate(mean: Any, full: float | None) -> float:
    return 0.0 if mean is None or not full else float(mean) / full * 100


def class_report_pdf(a: Analysis, *, exam: str, class_key: str, show_ranks: bool = True) -> bytes:
    """One class beside its whole grade (the `all` level of the analysis)."""
    if class_key not in set(a.students.get_column("class_key").to_list()):
        raise ValueError(f"没有班级 {class_key}")
    doc = _Doc(f"{exam} 成绩分析 · {class_key}", "本班与年级对比；比率为参加考试人数中的比例")
    mine, grade = _rows(a, "class", class_key), _rows(a, "all")
    rows = [["科目", "", *STAT_HEADERS]]
    subjects = [*a.subjects, TOTAL]
    for s in subjects:
        label = "总分" if s == TOTAL else s
        rows.append([label, "本班", *_figures(mine[s])])
        rows.append(["", "年级", *_figures(grade[s])])
    doc.heading("各科成绩")
    doc.table(rows, [22 * doc.mm, 12 * doc.mm] + [(doc.width - 34 * doc.mm) / 9] * 9)
    doc.heading("得分率（平均分 ÷ 满分）")
    rates = [[_rate(rows_[s]["mean"], _full(a, s)) for s in subjects] for rows_ in (mine, grade)]
    doc.bars(["总分" if s == TOTAL else s for s in subjects], rates, ["本班", "年级"])
    doc.page_break()
    doc.heading("学生成绩" + ("（含名次）" if show_ranks else ""))
    students = a.students.filter(pl.col("class_key") == class_key).sort(
        pl.col("total"), "student_id", descending=[True, False], nulls_last=True
    )
    scores = a.scores.filter(pl.col("class_key") == class_key)
    by_student: dict[str, dict[str, Any]] = {}
    for r in scores.select("student_id", "subject", "score", "status").iter_rows(named=True):
        by_student.setdefault(r["student_id"], {})[r["subject"]] = {"absent": "缺考", "exempt": "免考"}.get(
            r["status"]
        ) or _num(r["score"])
    head = ["考号", *a.subjects, "总分"] + (["班级名次", "年级名次"] if show_ranks else [])
    table = [head]
    for r in students.iter_rows(named=True):
        line = [r["student_id"], *[by_student.get(r["student_id"], {}).get(s, "–") for s in a.subjects]]
        line.append(_num(r["total"]))
        if show_ranks:
            line += [_num(r["rank_class"]), _num(r["rank_all"])]
        table.append(line)
    doc.table(table)
    return doc.pdf()


def grade_report_pdf(a: Analysis, *, exam: str, band_width: float = 50.0) -> bytes:
    """Every class of the grade, per subject and the total, with the classes' chart and the total's bands."""
    doc = _Doc(f"{exam} 年级成绩分析", "各班对比；比率为参加考试人数中的比例", landscape=True)
    classes = a.stats.filter(pl.col("level") == "class")
    grade = _rows(a, "all")
    keys = sorted(set(classes.get_column("key").to_list()))
    for s in [TOTAL, *a.subjects]:
        doc.heading(("总分" if s == TOTAL else s) + (f"（满分 {_num(_full(a, s))}）" if _full(a, s) else ""))
        rows = [["班级", *STAT_HEADERS]]
        per = {r["key"]: r for r in classes.filter(pl.col("subject") == s).iter_rows(named=True)}
        rows += [[k, *_figures(per[k])] for k in keys if k in per]
        rows.append(["年级", *_figures(grade[s])])
        doc.table(rows, [30 * doc.mm] + [(doc.width - 30 * doc.mm) / 9] * 9)
        if s == TOTAL:
            full = _full(a, TOTAL)
            doc.heading("各班总分得分率")
            doc.bars(keys, [[_rate(per[k]["mean"], full) for k in keys if k in per]], ["平均分 ÷ 满分"])
            if full:
                bands = score_bands(a.students, "total", full, band_width)
                doc.heading(f"总分分数段（每 {_num(band_width)} 分）")
                table = [["分数段", "人数", "累计人数"]]
                table += [
                    [f"{_num(r['low'])}–{_num(r['high'])}", str(r["count"]), str(r["at_or_above"])]
                    for r in bands.iter_rows(named=True)
                ]
                doc.table(table, [40 * doc.mm, 30 * doc.mm, 30 * doc.mm])
            doc.page_break()
    return doc.pdf()


def report_card_pdf(
    a: Analysis,
    *,
    exam: str,
    student_id: str,
    name: str = "",
    lines: Mapping[str, tuple[float, float]] | None = None,
    show_rank: bool = False,
) -> bytes:
    """One student's report card: his scores, bands and the class mean; a rank only if `show_rank`.
    `lines`: per subject (excellent %, pass %) for the bands; default the analysis' lines."""
    me = a.students.filter(pl.col("student_id") == student_id)
    if me.height == 0:
        raise ValueError(f"没有考生 {student_id}")
    student = me.row(0, named=True)
    class_key = student["class_key"]
    default = (a.lines.excellent, a.lines.passing)
    lines = lines or {}
    rows = a.scores.filter(pl.col("student_id") == student_id).with_columns(
        pl.col("subject").replace_strict({s: (lines.get(s) or default)[0] for s in a.subjects}).alias("_e"),
        pl.col("subject").replace_strict({s: (lines.get(s) or default)[1] for s in a.subjects}).alias("_p"),
    )
    rows = rows.with_columns(band_expr("score", "full_marks", "_e", "_p").alias("band"))
    class_means = _rows(a, "class", class_key)
    title = f"{exam} 成绩单"
    doc = _Doc(title, f"{name + '  ' if name else ''}考号 {student_id}  {student['class']}")
    table = [["科目", "成绩", "满分", "等级", "班级平均分"] + (["班级名次"] if show_rank else [])]
    for r in rows.iter_rows(named=True):
        shown = {"absent": "缺考", "exempt": "免考", "cheating": "0（作弊）"}.get(r["status"]) or _num(r["score"])
        line = [
            r["subject"],
            shown,
            _num(r["full_marks"]),
            BAND_LABELS.get(r["band"] or "", "–"),
            _num(class_means[r["subject"]]["mean"], 1),
        ]
        if show_rank:
            line.append(_num(r["rank_class"]))
        table.append(line)
    total_line = ["总分", _num(student["total"]), _num(student["total_full"]), "", _num(class_means[TOTAL]["mean"], 1)]
    if show_rank:
        total_line.append(_num(student["rank_class"]))
    table.append(total_line)
    doc.table(table, [30 * doc.mm] + [(doc.width - 30 * doc.mm) / (len(table[0]) - 1)] * (len(table[0]) - 1))
    doc.text("等级：优秀 ≥ 优秀线，良好 ≥ 优秀线与及格线的中点，及格 ≥ 及格线，其余为待及格。")
    if not show_rank:
        doc.text("按规定不公布学生排名。")
    return doc.pdf()
