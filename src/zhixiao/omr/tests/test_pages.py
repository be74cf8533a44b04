"""阅卷 pages: a paper from the textarea (its problems listed in Chinese), the sheet download, an upload read in the
background with its progress panel, the review page with the page image, the marker's page (one answer, score
buttons, no name or 考号), the head marker's arbitration, and the scores with their Excel export."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from zhixiao.identity.tests.helpers import login
from zhixiao.omr import services
from zhixiao.omr.models import AnswerCrop, AnswerSheet, CropStatus, ExamPaper, ReviewItem, ReviewStatus, ScanBatch
from zhixiao.people import selectors as people_selectors

from .helpers import ALL_RIGHT, definition, make_paper, numbers_of, scans, uploads

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(login_for: Any) -> Client:
    return login(Client(), login_for("school_admin"))


@pytest.fixture
def school_id(account_for: Any) -> int:
    sid = people_selectors.home_school_id(account_for("school_admin"))
    assert sid
    return sid


def test_the_new_paper_form_is_prefilled_and_lists_every_problem(admin_client: Client, school_id: int) -> None:
    page = admin_client.get("/omr/new/").content.decode()
    assert "2026届高三第一次模拟考试" in page and 'name="definition"' in page
    bad = admin_client.post("/omr/new/", {"school": school_id, "definition": definition(exam="", subject_code="a b")})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="paper-errors"' in html and "exam" in html and "subject_code" in html
    assert not ExamPaper.objects.filter(school_id=school_id).exists()
    good = admin_client.post("/omr/new/", {"school": school_id, "definition": definition(), "paper_size": "A3"})
    paper = ExamPaper.objects.get(school_id=school_id)
    assert good.status_code == 302 and good["Location"] == f"/omr/papers/{paper.pk}/"
    assert paper.layout["paper_size"] == "A3"
    detail = admin_client.get(good["Location"]).content.decode()
    assert "下载空白答题卡" in detail and 'id="upload-form"' in detail
    pdf = admin_client.get(f"/omr/papers/{paper.pk}/sheet.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert admin_client.get(f"/omr/papers/{paper.pk}/layout.json").json()["format"] == "zhixiao-omr-layout/1"


def test_an_upload_is_read_in_the_background_and_its_panel_stops_polling(
    admin_client: Client, account_for: Any, school_id: int, django_capture_on_commit_callbacks: Any
) -> None:
    paper = make_paper(account_for("school_admin"), school_id)
    ((_sid, n1),) = numbers_of(school_id, 1)
    files = uploads(scans(paper, [(n1, ALL_RIGHT), ("9999999999", ALL_RIGHT)]))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/omr/papers/{paper.pk}/scans/", {"files": files})
    assert response.status_code == 302
    batch = ScanBatch.objects.get(paper=paper)
    assert batch.status == "done" and batch.percent == 100
    panel = admin_client.get(f"/omr/batches/{batch.pk}/status/").content.decode()
    assert "100%" in panel and "hx-get" not in panel and "2 名考生" in panel
    detail = admin_client.get(f"/omr/papers/{paper.pk}/").content.decode()
    assert re.search(r'id="stat-review">1<', detail)

    item = ReviewItem.objects.get(paper=paper, code="unknown_student")
    review = admin_client.get(f"/omr/review/{item.pk}/").content.decode()
    assert f'src="/omr/pages/{item.page_id}/image/"' in review and 'id="choose-student"' in review
    image = admin_client.get(f"/omr/pages/{item.page_id}/image/")
    assert image["Content-Type"] == "image/jpeg" and b"".join(image.streaming_content)[:3] == b"\xff\xd8\xff"
    student_id, number = numbers_of(school_id, 3)[2]
    done = admin_client.post(f"/omr/review/{item.pk}/", {"action": "student", "student": student_id})
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == ReviewStatus.RESOLVED
    assert AnswerSheet.objects.filter(paper=paper, student_number=number, student_id=student_id).exists()


def test_a_non_image_upload_is_named_and_refused(admin_client: Client, account_for: Any, school_id: int) -> None:
    paper = make_paper(account_for("school_admin"), school_id)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        f"/omr/papers/{paper.pk}/scans/", {"files": [SimpleUploadedFile("成绩单.docx", b"not a scan")]}, follow=True
    )
    assert "没有可识别的扫描文件" in response.content.decode() and "成绩单.docx" in response.content.decode()
    assert not ScanBatch.objects.filter(paper=paper).exists()


def _marking(account_for: Any, school_id: int) -> tuple[ExamPaper, Any, Any, Any]:
    from zhixiao.identity.models import Account

    admin = account_for("school_admin")
    paper = make_paper(admin, school_id)
    batch = services.upload_scans(
        actor=admin,
        paper_id=paper.pk,
        files=uploads(scans(paper, [(n, ALL_RIGHT) for _s, n in numbers_of(school_id, 2)])),
    )
    services.read_batch(batch_id=batch.pk)
    t1 = account_for("subject_teacher")
    head = account_for("homeroom_teacher")
    t2 = Account.objects.get(
        pk=next(a for a, _l in people_selectors.staff_choices(school_id=school_id) if a not in (t1.pk, head.pk))
    )
    services.save_assignment(
        actor=admin,
        paper_id=paper.pk,
        question=11,
        marker_ids=[t1.pk, t2.pk],
        head_marker_id=head.pk,
        double_marking=True,
        tolerance="1",
    )
    return paper, t1, t2, head


def test_the_marker_sees_one_answer_with_score_buttons_and_no_name(
    account_for: Any, admin_client: Client, school_id: int
) -> None:
    paper, t1, t2, head = _marking(account_for, school_id)
    client = Client()
    client.force_login(t1)
    listing = client.get("/omr/").content.decode()
    assert f"/omr/papers/{paper.pk}/mark/11/" in listing
    html = client.get(f"/omr/papers/{paper.pk}/mark/11/").content.decode()
    crop_id = int(re.search(r"/omr/crops/(\d+)/image/", html).group(1))  # type: ignore[union-attr]
    for sheet in AnswerSheet.objects.filter(paper=paper):
        assert sheet.student_number not in html
    names = [s["name"] for s in people_selectors.enrolled_students_of(school_id=school_id)[:2]]
    assert not any(n in html for n in names)
    assert html.count('class="secondary score-btn"') == 21 and "还剩 2 份" in html  # 0 … 10 in steps of 0.5
    assert client.get(f"/omr/crops/{crop_id}/image/").status_code == 200
    assert client.post(f"/omr/papers/{paper.pk}/mark/11/", {"crop": crop_id, "score": "2"}).status_code == 302
    assert "还剩 1 份" in client.get(f"/omr/papers/{paper.pk}/mark/11/").content.decode()
    refused = client.post(f"/omr/papers/{paper.pk}/mark/11/", {"crop": crop_id, "score": "3"}, follow=True)
    assert "您已评过这份答卷" in refused.content.decode()

    second = Client()
    second.force_login(t2)
    second.post(f"/omr/papers/{paper.pk}/mark/11/", {"crop": crop_id, "score": "8"})
    assert AnswerCrop.objects.get(pk=crop_id).status == CropStatus.ARBITRATION
    boss = Client()
    boss.force_login(head)
    arbitration = boss.get(f"/omr/papers/{paper.pk}/head/11/").content.decode()
    assert f'id="arb-{crop_id}"' in arbitration and "一评：2" in arbitration and "二评：8" in arbitration
    boss.post(f"/omr/papers/{paper.pk}/head/11/", {"crop": crop_id, "score": "6"})
    crop = AnswerCrop.objects.get(pk=crop_id)
    assert crop.status == CropStatus.DONE and crop.final_score == 6
    assert client.get(f"/omr/papers/{paper.pk}/head/11/").status_code == 403  # a marker is no head marker

    scores = admin_client.get(f"/omr/papers/{paper.pk}/scores/").content.decode()
    assert "56" in scores and crop.sheet.student_number in scores
    xlsx = admin_client.get(f"/omr/papers/{paper.pk}/scores.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_an_assignment_saved_on_the_page(admin_client: Client, account_for: Any, school_id: int) -> None:
    paper = make_paper(account_for("school_admin"), school_id)
    t1 = account_for("subject_teacher")
    response = admin_client.post(
        f"/omr/papers/{paper.pk}/assignments/",
        {"question": 12, "markers": [t1.pk], "head": t1.pk, "tolerance": "1", "arbitration": "head"},
    )
    assert response.status_code == 302
    a = paper.assignments.get(question=12)
    assert list(a.markers.values_list("pk", flat=True)) == [t1.pk] and not a.double_marking
    page = admin_client.get(f"/omr/papers/{paper.pk}/assignments/").content.decode()
    assert 'id="assign-11"' in page and 'id="assign-12"' in page


def test_a_corrected_key_on_the_page_rescores(admin_client: Client, account_for: Any, school_id: int) -> None:
    admin = account_for("school_admin")
    paper = make_paper(admin, school_id)
    batch = services.upload_scans(
        actor=admin, paper_id=paper.pk, files=uploads(scans(paper, [(numbers_of(school_id, 1)[0][1], ALL_RIGHT)]))
    )
    services.read_batch(batch_id=batch.pk)
    response = admin_client.post(f"/omr/papers/{paper.pk}/key/", {"key": "1=C 2=D"}, follow=True)
    assert "1 份答题卡已重新计分" in response.content.decode()
    assert AnswerSheet.objects.get(paper=paper).objective_total == 40
    bad = admin_client.post(f"/omr/papers/{paper.pk}/key/", {"key": "1:C"}, follow=True)
    assert "题号=答案" in bad.content.decode()


def test_a_queued_batch_panel_polls_and_offers_cancel(admin_client: Client, account_for: Any, school_id: int) -> None:
    admin = account_for("school_admin")
    paper = make_paper(admin, school_id)
    batch = services.upload_scans(
        actor=admin, paper_id=paper.pk, files=uploads(scans(paper, [(numbers_of(school_id, 1)[0][1], ALL_RIGHT)]))
    )
    panel = admin_client.get(f"/omr/batches/{batch.pk}/status/", HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert f'hx-get="/omr/batches/{batch.pk}/status/"' in html and "排队中" in html and "取消" in html
    assert "HX-Refresh" not in panel
    services.read_batch(batch_id=batch.pk)
    done = admin_client.get(f"/omr/batches/{batch.pk}/status/", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true" and "hx-get" not in done.content.decode()
