"""A batch of scans as a school's scanner delivers it: JPEGs, a PDF, a multi-page TIFF, a ZIP, and the odd bad
file. Every page becomes a record (read, to review, or an error); students' sets are checked (duplicate IDs,
missing pages); a stopped batch resumes without reading a page twice; a corrected key re-scores everything."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from zhixiao.omr.cli import main
from zhixiao.omr.engine import batch
from zhixiao.omr.engine.batch import PageTask, list_pages, read_task, run_batch, score_answers
from zhixiao.omr.engine.synth import Distortion, Student
from zhixiao.omr.tests import drawn
from zhixiao.omr.tests.scans import decode, example_sheet, scan, student

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # forkserver in a multi-threaded test runner


def _student_set(tmp: Path, seed: int, pages: tuple[int, ...] = ()) -> tuple[Student, list[Path]]:
    st = student(seed)
    pages = pages or tuple(range(1, example_sheet()[0].page_count + 1))
    files = []
    for p in pages:
        jpeg, _ = scan(p, st, seed * 10 + p, dpi=150, distortion=Distortion(rotation=seed % 5 - 2.0, jpeg_quality=70))
        path = tmp / f"s{seed}-p{p}.jpg"
        path.write_bytes(jpeg)
        files.append(path)
    return st, files


def _codes(items: list[dict[str, Any]]) -> list[str]:
    return sorted(i["code"] for i in items)


def test_a_mixed_batch_reads_every_page_and_reports_every_bad_file(tmp_path: Path) -> None:
    layout, _ = example_sheet()
    st1, files1 = _student_set(tmp_path, 1)
    st2, _ = student(2), None
    n = layout.page_count
    assert n >= 2
    # student 2: one PDF (a scanner's usual output), the last page missing
    pdf = tmp_path / "s2.pdf"
    imgs = [Image.fromarray(decode(scan(p, st2, 20 + p, dpi=200)[0])) for p in range(1, n)]
    imgs[0].save(pdf, save_all=True, append_images=imgs[1:], resolution=200)
    # student 3: a multi-page TIFF, page 1 scanned twice
    st3 = student(3)
    tif = tmp_path / "s3.tif"
    pages3 = [Image.fromarray(decode(scan(p, st3, 30 + p, dpi=150)[0])) for p in (*range(1, n + 1), 1)]
    pages3[0].save(tif, save_all=True, append_images=pages3[1:], compression="tiff_deflate")
    # student 4 in a ZIP archive
    st4, files4 = _student_set(tmp_path, 4)
    archive = tmp_path / "s4.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in files4:
            zf.write(f, f.name)
    bad = {
        "corrupt.jpg": files1[0].read_bytes()[:3000],
        "notes.jpg": "这不是图片，是改了扩展名的文本".encode(),
        "blank.png": _png(np.full((1754, 1240), 250, np.uint8)),
        "other-exam.png": _png(drawn.draw(drawn.drawn_layout(exam_code="ZK2026", pages=1), 1, 150)),
    }
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden: not a scan
    inputs = [*files1, pdf, tif, archive, folder, tmp_path / "missing.jpg"]  # a folder stands for its files
    seen: list[tuple[int, int]] = []
    result = run_batch(
        layout,
        inputs,
        state=tmp_path / "state.jsonl",
        workers=2,
        crops_dir=tmp_path / "crops",
        progress=lambda d, t: seen.append((d, t)),
    )
    total = n + (n - 1) + (n + 1) + n + 5
    assert seen[0] == (0, total) and seen[-1] == (total, total) and len(seen) == total + 1
    pages = result.pages
    assert len(pages) == total  # nothing dropped
    by_file = {(Path(p["file"].split("!")[0]).name, p["index"]): p for p in pages}
    assert by_file[("corrupt.jpg", 0)]["error"] == "corrupt_file"
    assert by_file[("notes.jpg", 0)]["error"] == "not_image"
    assert by_file[("missing.jpg", 0)]["error"] == "unreadable_file"
    assert "不是图像" in by_file[("notes.jpg", 0)]["review"][0]["message"]
    assert _codes(by_file[("blank.png", 0)]["review"]) == ["blank_page"]
    assert _codes(by_file[("other-exam.png", 0)]["review"]) == ["wrong_exam"]
    students = {s["student_id"]: s for s in result.students}
    assert set(students) == {st1.student_id, st2.student_id, st3.student_id, st4.student_id}
    for st in (st1, st2, st3, st4):
        assert students[st.student_id]["answers"] == {str(k): v for k, v in st.answers.items()}
        expected = score_answers(layout, {str(k): v for k, v in st.answers.items()}, layout.answer_key)
        assert students[st.student_id]["objective_total"] == sum(expected.values())
    assert sorted(students[st1.student_id]["pages"]) == [str(p) for p in range(1, n + 1)]
    review = {(i["code"], i["student_id"]) for i in result.review}
    assert review == {("missing_pages", st2.student_id), ("duplicate_id", st3.student_id)}
    messages = [i["message"] for i in result.review]
    assert f"考号 {st2.student_id} 缺少答题卡第 {n} 页" in messages
    assert any(m.startswith(f"考号 {st3.student_id} 的第 1 页出现了 2 次") for m in messages)
    assert result.summary["errors"] == 3 and result.summary["students"] == 4
    # written answers cropped for on-screen marking, a page to review kept as an image
    crops = [p["crops"] for p in pages if p.get("page") == 2]
    assert len(crops) == 3  # students 1, 3 and 4
    assert all(sorted(c) == sorted(str(b.question) for b in layout.boxes_on(2)) for c in crops)
    assert all((tmp_path / "crops" / name).exists() for c in crops for name in c.values())
    assert (tmp_path / "crops" / by_file[("blank.png", 0)]["crops"]["page"]).exists()


def test_a_stopped_batch_resumes_without_reading_pages_again(tmp_path: Path) -> None:
    layout, _ = example_sheet()
    _, first = _student_set(tmp_path, 5)
    _, second = _student_set(tmp_path, 6)
    state = tmp_path / "state.jsonl"
    run_batch(layout, first, state=state, workers=1)
    with state.open("a", encoding="utf-8") as fh:
        fh.write('{"key": "half a line, the process died he')  # torn last line
    again = run_batch(layout, [*first, *second], state=state, workers=1)
    n = layout.page_count
    assert again.summary["pages_read_now"] == n
    assert again.summary["students"] == 2 and not again.review
    lines = state.read_text(encoding="utf-8").splitlines()
    assert sum(1 for line in lines if line.startswith('{"file"')) == 2 * n
    third = run_batch(layout, [*first, *second], state=state, workers=1)
    assert third.summary["pages_read_now"] == 0 and third.summary["pages"] == 2 * n
    # a rescanned (changed) file is read again
    second[0].write_bytes(second[0].read_bytes() + b"\0")
    assert run_batch(layout, [*first, *second], state=state, workers=1).summary["pages_read_now"] == 1


def test_a_corrected_key_rescores_everyone_from_the_stored_answers(tmp_path: Path) -> None:
    layout, _ = example_sheet()
    st, files = _student_set(tmp_path, 7, pages=(1,))
    out = tmp_path / "results.json"
    argv = ["read", str(_layout_file(tmp_path)), *map(str, files), "--out", str(out), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    before = json.loads(out.read_text(encoding="utf-8"))["students"][0]
    # the key was wrong where this student answered otherwise: the corrected key agrees with the student
    changed = [
        q for q in layout.questions if q.type == "single" and st.answers[q.no] not in ("", layout.answer_key[str(q.no)])
    ][:3]
    assert len(changed) == 3
    key = dict(layout.answer_key) | {str(q.no): st.answers[q.no] for q in changed}
    (tmp_path / "key.json").write_text(json.dumps(key), encoding="utf-8")
    assert main([*argv, "--key", str(tmp_path / "key.json")]) == 0
    after_all = json.loads(out.read_text(encoding="utf-8"))
    assert after_all["summary"]["pages_read_now"] == 0  # nothing read again
    after = after_all["students"][0]
    for q in changed:
        assert (before["scores"][str(q.no)], after["scores"][str(q.no)]) == (0.0, q.score)
    assert after["objective_total"] == before["objective_total"] + sum(q.score for q in changed)
    assert after_all["answer_key"] == key
    (tmp_path / "bad-key.json").write_text('{"1": "Z"}', encoding="utf-8")
    assert main([*argv, "--key", str(tmp_path / "bad-key.json")]) == 2


def test_the_cli_writes_per_page_results_and_refuses_a_bad_layout(tmp_path: Path, capsys: Any) -> None:
    st, files = _student_set(tmp_path, 8, pages=(1, 2))
    out = tmp_path / "out" / "results.json"
    assert main(["read", str(_layout_file(tmp_path)), *map(str, files), "--out", str(out), "--workers", "1"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["format"] == "zhixiao-omr-results/1" and data["exam_code"] == "GK2026M1"
    page1 = data["pages"][0]
    assert page1["file"] == str(files[0]) and page1["page"] == 1 and page1["student_id"] == st.student_id
    assert page1["answers"]["31"] == st.answers[31] and 0 <= page1["confidence"]["31"] <= 1
    assert data["pages"][1]["student_id"] == st.student_id and data["pages"][1]["student_source"] == "sequence"
    assert data["summary"]["pages"] == 2 and data["summary"]["students"] == 1
    assert "读卡 2/2" in capsys.readouterr().err
    bad = tmp_path / "bad.layout.json"
    bad.write_text('{"format": "zhixiao-omr-layout/1", "pages": []}', encoding="utf-8")
    assert main(["read", str(bad), *map(str, files), "--out", str(out)]) == 2
    assert "版面中没有任何页" in capsys.readouterr().err


def test_an_oversized_archive_is_refused_and_the_rest_goes_on(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(batch, "MAX_ARCHIVE_MEMBERS", 2)
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3):
            zf.writestr(f"{i}.jpg", b"\xff\xd8\xff" + bytes(10))
    _, files = _student_set(tmp_path, 9, pages=(1,))
    tasks = list_pages([archive, *files])
    assert [t.kind for t in tasks] == ["error", "jpeg"]
    assert tasks[0].error == "archive_too_large" and "请拆分后分批上传" in tasks[0].member
    # an image whose header claims 20000 × 20000 pixels is not decoded
    huge = tmp_path / "huge.png"
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    huge.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(99)))
        + _chunk(b"IEND", b"")
    )
    result = run_batch(example_sheet()[0], [archive, huge, *files], state=tmp_path / "s.jsonl", workers=1)
    assert [p["error"] for p in result.pages] == ["archive_too_large", "image_too_large", None]


def test_chinese_names_in_a_zip_made_by_windows_read_as_chinese(tmp_path: Path) -> None:
    _, files = _student_set(tmp_path, 11, pages=(1,))
    archive = tmp_path / "扫描.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(files[0], "XXXX01.jpg")  # GBK bytes without the UTF-8 flag, as Windows' own ZIP tool writes
    archive.write_bytes(archive.read_bytes().replace(b"XXXX01.jpg", "高三01.jpg".encode("gbk")))
    [task] = list_pages([archive])
    assert task.source == f"{archive}!高三01.jpg"
    result = run_batch(example_sheet()[0], [archive], state=tmp_path / "s.jsonl", workers=1)
    assert result.pages[0]["file"].endswith("!高三01.jpg") and result.pages[0]["page"] == 1


def _dies_on_crash_jpg(task: PageTask) -> dict[str, Any]:
    """A worker's reading that kills its process on one file, as a decoder crash would."""
    if Path(task.path).name == "crash.jpg":
        os._exit(3)
    return read_task(task)


def test_a_worker_that_dies_costs_one_page_not_the_batch(tmp_path: Path) -> None:
    layout, _ = example_sheet()
    _, files = _student_set(tmp_path, 10)
    crash = tmp_path / "crash.jpg"
    crash.write_bytes(files[0].read_bytes())
    tasks = list_pages([files[0], crash, *files[1:]])
    records = list(batch._records(tasks, 2, (layout.raw, None, 150), work=_dies_on_crash_jpg))
    assert [r["key"] for r in records] == [t.key for t in tasks]  # every page, in order
    assert records[1]["error"] == "worker_crashed"
    assert "进程意外退出" in records[1]["review"][0]["message"]
    assert [r["page"] for r in records if r is not records[1]] == list(range(1, layout.page_count + 1))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def _layout_file(tmp: Path) -> Path:
    path = tmp / "SHEET.layout.json"
    if not path.exists():
        path.write_text(json.dumps(example_sheet()[0].raw, ensure_ascii=False), encoding="utf-8")
    return path
