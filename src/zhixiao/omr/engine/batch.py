"""A batch of scans: files → pages → results, in parallel, resumable, with nothing dropped.

Inputs are JPEG, PNG, (multi-page) TIFF, PDF (rendered at 200 dpi) and ZIP archives of those, recognised by
their content, not their names. Every page becomes one JSON line in the state file as soon as it is read, so
a batch that stops (a crash, a reboot) resumes where it was: pages already in the file are not read again.
A file that cannot be read becomes an error record of its own and the batch goes on. Batch-level checks come
last: one student's page scanned twice (duplicate ID), a student's set with pages missing, pages that belong
to no student. Objective scores come from the layout's answer key or a corrected one (`rescore`).
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from . import paper as paper_mod
from .layout import Layout, load_layout
from .reader import PageResult, Review, SheetReader

RESULTS_FORMAT = "zhixiao-omr-results/1"
PDF_DPI = 200
MAX_ARCHIVE_MEMBERS = 20_000
MAX_ARCHIVE_BYTES = 4 * 1024**3  # uncompressed
MAX_MEMBER_RATIO = 200  # a member that inflates more than this is not a scan (zip bomb)
MAX_IMAGE_PIXELS = 80_000_000  # a 600 dpi A3 page is 35 Mpx
CROP_JPEG_QUALITY = 85
MAX_PDF_RENDER_PX = 8000  # longest side of a rendered PDF page

ERROR_MESSAGES = {
    "unreadable_file": "无法读取文件",
    "not_image": "不是图像（JPEG、PNG、TIFF）或 PDF 文件",
    "corrupt_file": "文件已损坏，无法解码",
    "archive_too_large": "压缩包过大",
    "image_too_large": "图像过大",
    "read_failed": "读取此页时出错",
    "worker_crashed": "读取此页时进程意外退出（文件可能已损坏）",
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PageTask:
    """One page to read: a file (or a member of a ZIP archive) and the page's index in it."""

    path: str
    index: int
    kind: str  # jpeg | png | tiff | pdf | error
    member: str = ""
    stamp: str = ""  # size and modification time: a changed file is read again
    error: str = ""  # kind == "error": the code, and detail in `member`

    @property
    def source(self) -> str:
        return f"{self.path}!{member_name(self.member)}" if self.member and self.kind != "error" else self.path

    @property
    def key(self) -> str:
        return f"{self.source}|{self.stamp}|{self.index}"


@dataclass
class BatchResult:
    pages: list[dict[str, Any]]
    students: list[dict[str, Any]]
    review: list[dict[str, Any]]
    summary: dict[str, Any]
    exam_code: str = ""
    subject_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RESULTS_FORMAT,
            "exam_code": self.exam_code,
            "subject_code": self.subject_code,
            "summary": self.summary,
            "review": self.review,
            "students": self.students,
            "pages": self.pages,
            **self.extra,
        }


# -- finding pages -----------------------------------------------------------------------------------------


def member_name(name: str) -> str:
    """A ZIP member's name as its author wrote it: Windows' own ZIP tool writes Chinese names in GBK without
    saying so, which Python reads as code page 437 (“╔¿├Φ.jpg” for 扫描.jpg)."""
    try:
        fixed = name.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name
    return fixed if fixed != name and any("\u4e00" <= ch <= "\u9fff" for ch in fixed) else name


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}-{st.st_mtime_ns}"


def _page_count(kind: str, data: bytes) -> int:
    if kind == "pdf":
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(data)
        try:
            return len(doc)
        finally:
            doc.close()
    if kind == "tiff":
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return int(getattr(im, "n_frames", 1))
    return 1


def _error_task(path: str, code: str, detail: str = "", stamp: str = "") -> PageTask:
    return PageTask(path, 0, "error", member=detail, stamp=stamp, error=code)


def _tasks_for(path: str, data: bytes, stamp: str, member: str = "") -> list[PageTask]:
    kind = sniff(data[:16])
    where = f"{path}!{member_name(member)}" if member else path
    if kind is None or kind == "zip":
        detail = "压缩包里不能再套压缩包" if kind == "zip" else ""
        return [_error_task(where, "not_image", detail, stamp)]
    try:
        n = _page_count(kind, data)
    except Exception as exc:  # any decoder error means the same thing here: a broken file
        return [_error_task(where, "corrupt_file", str(exc)[:200], stamp)]
    return [PageTask(path, i, kind, member, stamp) for i in range(n)]


def list_pages(inputs: Iterable[str | Path]) -> list[PageTask]:
    """Every page of every input, in order; unreadable inputs become error tasks (they are reported, not lost)."""
    tasks: list[PageTask] = []
    for raw in _expand(inputs):
        path = Path(raw)
        name = str(raw)
        try:
            stamp = _stamp(path)
            with path.open("rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            tasks.append(_error_task(name, "unreadable_file", exc.strerror or str(exc)))
            continue
        kind = sniff(head)
        if kind == "zip":
            tasks.extend(_archive_tasks(name, path, stamp))
        elif kind in ("pdf", "tiff"):
            tasks.extend(_tasks_for(name, path.read_bytes(), stamp))
        elif kind is None:
            tasks.append(_error_task(name, "not_image", "", stamp))
        else:
            tasks.append(PageTask(name, 0, kind, "", stamp))
    return tasks


def _expand(inputs: Iterable[str | Path]) -> Iterable[str | Path]:
    """Folders stand for the files in them (and their subfolders), by name; hidden files are skipped."""
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            for sub in sorted(path.rglob("*")):
                if sub.is_file() and not any(part.startswith(".") for part in sub.relative_to(path).parts):
                    yield sub
        else:
            yield raw


def _archive_tasks(name: str, path: Path, stamp: str) -> list[PageTask]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            total = sum(i.file_size for i in infos)
            if len(infos) > MAX_ARCHIVE_MEMBERS or total > MAX_ARCHIVE_BYTES:
                detail = (
                    f"{len(infos)} 个文件、解压后 {total / 1024**2:.0f} MB"
                    f"（上限 {MAX_ARCHIVE_MEMBERS} 个、{MAX_ARCHIVE_BYTES // 1024**3} GB），请拆分后分批上传"
                )
                return [_error_task(name, "archive_too_large", detail, stamp)]
            tasks: list[PageTask] = []
            for info in sorted(infos, key=lambda i: i.filename):
                if info.compress_size and info.file_size / info.compress_size > MAX_MEMBER_RATIO:
                    where = f"{name}!{member_name(info.filename)}"
                    tasks.append(_error_task(where, "archive_too_large", "压缩比异常", stamp))
                    continue
                tasks.extend(_tasks_for(name, zf.read(info), stamp, info.filename))
            return tasks
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        return [_error_task(name, "corrupt_file", str(exc)[:200], stamp)]


# -- decoding ----------------------------------------------------------------------------------------------


def _reduction(size: tuple[int, int], layout: Layout) -> int:
    """Decode fine scans at half or quarter size (JPEG decoders do this almost for free); ~6 px/mm is enough."""
    px_per_mm = max(size) / max(layout.page_size_mm)
    return 4 if px_per_mm >= 24 else 2 if px_per_mm >= 11 else 1


def decode_page(task: PageTask, layout: Layout, data: bytes | None = None) -> NDArray[np.uint8]:
    """The page as a grayscale image. Raises ValueError (code, detail) for a page that cannot be decoded."""
    if data is None:
        data = _task_bytes(task)
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        if task.kind in ("jpeg", "png"):
            with Image.open(io.BytesIO(data)) as probe:
                size = probe.size
            if size[0] * size[1] > MAX_IMAGE_PIXELS:
                raise ValueError("image_too_large", f"{size[0]}×{size[1]} 像素")
            r = _reduction(size, layout) if task.kind == "jpeg" else 1
            flag = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4}[r]
            img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
            if img is None:
                raise ValueError("corrupt_file", "")
            return np.asarray(img, dtype=np.uint8)
        if task.kind == "tiff":
            with Image.open(io.BytesIO(data)) as im:
                im.seek(task.index)
                return np.asarray(im.convert("L"), dtype=np.uint8)
        if task.kind == "pdf":
            import pypdfium2 as pdfium

            doc = pdfium.PdfDocument(data)
            try:
                page = doc[task.index]
                longest = max(page.get_size())  # points; a poster-sized page is not rendered at 200 dpi
                scale = min(PDF_DPI / 72, MAX_PDF_RENDER_PX / max(longest, 1.0))
                bitmap = page.render(scale=scale, grayscale=True)
                arr = np.asarray(bitmap.to_numpy())
                return np.ascontiguousarray(arr.reshape(arr.shape[0], arr.shape[1], -1)[..., 0], dtype=np.uint8)
            finally:
                doc.close()
    except ValueError:
        raise
    except Image.DecompressionBombError as exc:
        raise ValueError("image_too_large", str(exc)[:200]) from exc
    except Exception as exc:  # PIL, pdfium and OpenCV raise many kinds; all mean a broken page
        raise ValueError("corrupt_file", str(exc)[:200]) from exc
    raise ValueError("not_image", task.kind)


def _task_bytes(task: PageTask) -> bytes:
    if task.member:
        with zipfile.ZipFile(task.path) as zf:
            return zf.read(task.member)
    return Path(task.path).read_bytes()


# -- reading (in worker processes) -------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(layout_raw: dict[str, Any], crops_dir: str | None, crop_dpi: int) -> None:
    cv2.setNumThreads(1)
    layout = load_layout(layout_raw)
    _worker.update(layout=layout, reader=SheetReader(layout, crop_dpi=crop_dpi), crops_dir=crops_dir)


def _file_stem(task: PageTask) -> str:
    digest = hashlib.sha256(task.key.encode()).hexdigest()[:10]
    base = Path(member_name(task.member) or task.path).stem[:40]
    return f"{base}-{task.index + 1}-{digest}"


def _error_record(task: PageTask, code: str, detail: str) -> dict[str, Any]:
    message = ERROR_MESSAGES.get(code, code) + (f"：{detail}" if detail else "")
    rec = PageResult(file=task.source, index=task.index, error=code)
    rec.review.append(Review(code, message))
    return rec.to_json()


def read_task(task: PageTask) -> dict[str, Any]:
    """Read one page in this process (the worker's reader); always returns a record, never raises for bad input."""
    layout: Layout = _worker["layout"]
    reader: SheetReader = _worker["reader"]
    crops_dir: str | None = _worker["crops_dir"]
    t0 = time.perf_counter()
    if task.kind == "error":
        record = _error_record(task, task.error, task.member)
    else:
        try:
            image = decode_page(task, layout)
        except OSError as exc:
            record = _error_record(task, "unreadable_file", exc.strerror or str(exc))
        except ValueError as exc:
            code, detail = (*exc.args, "", "")[:2]
            record = _error_record(task, str(code), str(detail))
        else:
            keep = crops_dir is not None
            try:
                result = reader.read(
                    image, file=task.source, index=task.index, crops=keep, review_dpi=100 if keep else None
                )
                record = result.to_json()
                if crops_dir is not None:
                    record["crops"] = _save_images(result, Path(crops_dir), _file_stem(task))
            except Exception as exc:  # a reader bug or no memory: this page is reported, the batch goes on
                record = _error_record(task, "read_failed", f"{type(exc).__name__}: {exc}"[:200])
    record["key"] = task.key
    record["seconds"] = round(time.perf_counter() - t0, 4)
    return record


def _save_images(result: PageResult, out: Path, stem: str) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    saved: dict[str, str] = {}
    for no, crop in result.crops.items():
        # JPEG: a twelfth of the time of PNG (scan noise defeats PNG's compression) and a quarter of its size,
        # with handwriting as legible on screen
        name = f"{stem}-q{no}.jpg"
        cv2.imwrite(str(out / name), crop, [cv2.IMWRITE_JPEG_QUALITY, CROP_JPEG_QUALITY])
        saved[str(no)] = name
    if result.page_image is not None:  # the reviewer sees the page: upright when the markers allow
        cv2.imwrite(str(out / f"{stem}-page.jpg"), result.page_image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        saved["page"] = f"{stem}-page.jpg"
    return saved


# -- the batch ---------------------------------------------------------------------------------------------


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    """Records already in a state file (JSON lines), by key; a half-written last line is ignored."""
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and "key" in rec:
                done[rec["key"]] = rec
    return done


def run_batch(
    layout: Layout,
    inputs: Sequence[str | Path],
    *,
    state: Path,
    workers: int = 0,
    crops_dir: Path | None = None,
    crop_dpi: int = 150,
    progress: Progress | None = None,
    key: Mapping[str, str] | None = None,
) -> BatchResult:
    """Read every page of `inputs` (already-read pages in `state` are kept), then check and score the batch."""
    t0 = time.monotonic()
    tasks = list_pages(inputs)
    done = load_state(state)
    todo = [t for t in tasks if t.key not in done]
    total, count = len(tasks), len(tasks) - len(todo)
    if progress:
        progress(count, total)
    state.parent.mkdir(parents=True, exist_ok=True)
    if state.exists() and state.stat().st_size:
        with state.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            torn = fh.read(1) != b"\n"
    else:
        torn = False
    workers = workers or min(8, os.cpu_count() or 1)
    initargs = (layout.raw, str(crops_dir) if crops_dir else None, crop_dpi)
    with state.open("a", encoding="utf-8") as out:
        if torn:
            out.write("\n")
        for rec in _records(todo, workers, initargs):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            out.flush()
            done[rec["key"]] = rec
            count += 1
            if progress:
                progress(count, total)
    pages = [done[t.key] for t in tasks]
    result = assemble(layout, pages, key=key)
    read_seconds = time.monotonic() - t0
    result.summary.update(
        seconds=round(read_seconds, 2),
        pages_read_now=len(todo),
        pages_per_second=round(len(todo) / read_seconds, 1) if todo and read_seconds > 0 else None,
    )
    return result


def _records(
    todo: list[PageTask],
    workers: int,
    initargs: tuple[Any, ...],
    work: Callable[[PageTask], dict[str, Any]] = read_task,
) -> Iterable[dict[str, Any]]:
    """Records of `todo`, in order. A worker that dies (a decoder crash on a broken file, the kernel's OOM killer)
    costs one page, not the batch: the page it died on is retried alone and, if it kills that process too,
    becomes an error record."""
    if not todo:
        return
    if workers <= 1 or len(todo) == 1:
        _init_worker(*initargs)
        for task in todo:
            yield work(task)
        return
    ctx = multiprocessing.get_context("forkserver")
    remaining = list(todo)
    while remaining:
        done = 0
        try:
            with ProcessPoolExecutor(
                min(workers, len(remaining)), mp_context=ctx, initializer=_init_worker, initargs=initargs
            ) as pool:
                for rec in pool.map(work, remaining, chunksize=4):
                    done += 1
                    yield rec
            return
        except BrokenProcessPool:
            remaining = remaining[done:]
        # the next page in order may be the one that killed the pool, or only waiting behind it: alone it tells
        suspect = remaining.pop(0)
        try:
            with ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker, initargs=initargs) as alone:
                yield alone.submit(work, suspect).result()
        except BrokenProcessPool:
            rec = _error_record(suspect, "worker_crashed", "")
            rec["key"] = suspect.key
            yield rec


# -- batch-level checks and scores --------------------------------------------------------------------------


def _paper_question(q: Any) -> paper_mod.Question:
    return paper_mod.Question(
        no=q.no,
        type=cast(paper_mod.QuestionType, q.type),
        score=q.score,
        section=q.section,
        options=q.options,
        partial=q.partial or None,
    )


def score_answers(layout: Layout, answers: Mapping[str, str], key: Mapping[str, str]) -> dict[str, float]:
    """Objective scores per question (the multiple-choice rule: all right = full, some right and none wrong =
    partial, any wrong = 0; several marks on a single choice = 0), from the paper engine's scorer."""
    scores: dict[str, float] = {}
    for q in layout.questions:
        k = key.get(str(q.no))
        if not q.objective or k is None:
            continue
        pq = _paper_question(q)
        right = paper_mod.normalise_answer(pq, k)
        if right is None:
            raise ValueError(f"第 {q.no} 题的答案“{k}”无效")
        raw = answers.get(str(q.no)) or ""
        response = paper_mod.normalise_answer(pq, raw) if raw else None
        scores[str(q.no)] = paper_mod.score_question(pq, right, response)
    return scores


def assemble(layout: Layout, pages: list[dict[str, Any]], *, key: Mapping[str, str] | None = None) -> BatchResult:
    """Group pages into students' sets (by ID; a page without an ID grid follows the page before it in the
    scan order), flag duplicates, missing and unassigned pages, and score objective answers."""
    key = dict(layout.answer_key if key is None else key)
    batch_review: list[dict[str, Any]] = []
    sets: dict[str, dict[int, list[int]]] = {}
    current: str | None = None
    current_pages: set[int] = set()
    id_pages = layout.id_pages()
    for i, rec in enumerate(pages):
        page, sid = rec.get("page"), rec.get("student_id")
        rec["student_source"] = None
        if rec.get("error") is not None or not isinstance(page, int) or _has(rec, "wrong_exam"):
            continue
        if sid:
            rec["student_source"] = "sheet"
            current, current_pages = sid, {page}
        elif page not in id_pages and current is not None and page not in current_pages:
            rec["student_id"] = sid = current
            rec["student_source"] = "sequence"
            current_pages.add(page)
        else:
            if page in id_pages:
                current, current_pages = None, set()
            batch_review.append(
                _item(
                    "unassigned_page",
                    f"{rec['file']} 第 {rec['index'] + 1} 页（答题卡第 {page} 页）无法对应到考生",
                    files=[rec["file"]],
                )
            )
            continue
        sets.setdefault(sid, {}).setdefault(page, []).append(i)
    students = []
    for sid, by_page in sorted(sets.items()):
        for page, idxs in sorted(by_page.items()):
            if len(idxs) > 1:
                files = [f"{pages[j]['file']}#{pages[j]['index'] + 1}" for j in idxs]
                batch_review.append(
                    _item(
                        "duplicate_id",
                        f"考号 {sid} 的第 {page} 页出现了 {len(idxs)} 次：{'、'.join(files)}",
                        sid,
                        files,
                    )
                )
        missing = [p.page for p in layout.pages if p.page not in by_page]
        if missing:
            batch_review.append(
                _item("missing_pages", f"考号 {sid} 缺少答题卡第 {'、'.join(map(str, missing))} 页", sid, [])
            )
        answers: dict[str, str] = {}
        for idxs in by_page.values():
            answers.update(pages[idxs[0]].get("answers") or {})
        student = {
            "student_id": sid,
            "pages": {str(p): [pages[j]["key"] for j in idxs] for p, idxs in sorted(by_page.items())},
        }
        student["answers"] = answers
        students.append(student)
    result = BatchResult(pages=pages, students=students, review=batch_review, summary={})
    result.exam_code, result.subject_code = layout.exam_code, layout.subject_code
    rescore(result, layout, key)
    codes: dict[str, int] = {}
    for rec in pages:
        for item in rec.get("review") or []:
            codes[item["code"]] = codes.get(item["code"], 0) + 1
    for item in batch_review:
        codes[item["code"]] = codes.get(item["code"], 0) + 1
    result.summary = {
        "files": len({rec["file"].split("!")[0] for rec in pages}),
        "pages": len(pages),
        "pages_read": sum(1 for rec in pages if rec.get("page") is not None and rec.get("error") is None),
        "pages_with_review": sum(1 for rec in pages if rec.get("review")),
        "errors": sum(1 for rec in pages if rec.get("error")),
        "students": len(students),
        "batch_review_items": len(batch_review),
        "review_codes": dict(sorted(codes.items())),
    }
    return result


def rescore(result: BatchResult, layout: Layout, key: Mapping[str, str]) -> BatchResult:
    """(Re-)score every student from the stored answers with `key` (e.g. a corrected key): no page is read again."""
    key = {str(k): v for k, v in key.items()}
    for student in result.students:
        scores = score_answers(layout, student["answers"], key)
        student["scores"] = scores
        student["objective_total"] = sum(scores.values())
    result.extra["answer_key"] = key
    return result


def _has(rec: Mapping[str, Any], code: str) -> bool:
    return any(item.get("code") == code for item in rec.get("review") or [])


def _item(code: str, message: str, student_id: str | None = None, files: list[str] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "student_id": student_id, "files": files or []}
