"""Excel in and out: fast reading with calamine, writing with openpyxl. No domain knowledge here."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")


class SpreadsheetError(ValueError):
    """The file is not a readable .xlsx workbook (message for users)."""


def read_rows(data: bytes, *, max_rows: int) -> list[list[Any]]:
    """All rows of the first sheet as lists of cell values; refuses non-xlsx and oversized files."""
    from python_calamine import CalamineWorkbook

    if not data.startswith(b"PK"):
        raise SpreadsheetError(_("文件不是 .xlsx 格式的 Excel 工作簿"))
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several types for broken files
        raise SpreadsheetError(_("无法读取该 Excel 文件：{error}").format(error=str(exc)[:200])) from exc
    while rows and all(v in ("", None) for v in rows[-1]):
        rows.pop()
    if len(rows) - 1 > max_rows:
        raise SpreadsheetError(_("文件行数过多（最多 {max} 行）").format(max=max_rows))
    return rows


def write_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    widths: Sequence[int] | None = None,
) -> bytes:
    """A plain, tidy workbook: bold frozen header, sensible column widths, text cells kept as text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for i, header in enumerate(headers, start=1):
        width = widths[i - 1] if widths else max(10, min(40, len(str(header)) * 2 + 4))
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    from openpyxl.cell import WriteOnlyCell

    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(sheet, value=h)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_excel_safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _excel_safe(value: Any) -> Any:
    """Neutralise formula injection (=, +, -, @ at the start of a text cell)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    """A download of a workbook (every list page offers one)."""
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
