"""The example paper's real sheet (examples/omr/paper.json → PDF + layout), rendered once per test process,
and scans of it made by the synthesiser with their ground truth."""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from zhixiao.omr.engine.layout import Layout, load_layout
from zhixiao.omr.engine.paper import load_paper
from zhixiao.omr.engine.roster import Student as RosterStudent
from zhixiao.omr.engine.sheet import make_sheet
from zhixiao.omr.engine.synth import Distortion, ScanMaker, Student, random_student, render_pdf

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "omr" / "paper.json"


@functools.cache
def example_sheet() -> tuple[Layout, bytes]:
    sheet = make_sheet(load_paper(EXAMPLE))
    return load_layout(sheet.layout()), sheet.pdf


@functools.cache
def rendered(dpi: int) -> list[np.ndarray]:
    return render_pdf(example_sheet()[1], dpi)


@functools.cache
def preprinted(student_id: str) -> tuple[Layout, list[np.ndarray]]:
    """A sheet pre-printed for one student (the QR carries the ID), at 200 dpi."""
    sheet = make_sheet(load_paper(EXAMPLE), roster=[RosterStudent(student_id, "张三", "高三（1）班")])
    return load_layout(sheet.layout()), render_pdf(sheet.pdf, 200)


def maker(**kw: Any) -> ScanMaker:
    layout, _ = example_sheet()
    return ScanMaker(
        layout,
        {dpi: rendered(dpi) for dpi in (150, 200, 300) if kw.get("dpi", dpi) == dpi},
        **{k: v for k, v in kw.items() if k != "dpi"},
    )


def student(seed: int) -> Student:
    return random_student(example_sheet()[0], random.Random(seed))


def scan(
    page: int, st: Student, seed: int, *, dpi: int = 200, distortion: Distortion | None = None, **kw: Any
) -> tuple[bytes, dict[str, Any]]:
    """A JPEG of the student's page `page`, and its truth."""
    return maker(dpi=dpi, **kw).scan(page, st, random.Random(seed), dpi=dpi, distortion=distortion or Distortion())


def decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE))
