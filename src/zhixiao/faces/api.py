"""The device feed of the face library: GET /api/v1/devices/{device_id}/faces?since=cursor.

A device keeps the cursor of its last page and asks from it; each change is a face to add (with its photo)
or to remove, in the order they were committed. While `more` is true it asks again at once."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from zhixiao.devices.api import DeviceSignatureAuth, device_of

from . import selectors

router = Router(tags=["faces"])


class FaceChangeOut(Schema):
    face_id: str
    student_id: int
    action: str  # "add" | "remove"
    photo_b64: str | None = None  # add only: the JPEG or PNG bytes, base64
    photo_type: str | None = None  # add only: image/jpeg or image/png


class FaceFeedOut(Schema):
    cursor: int
    changes: list[FaceChangeOut]
    more: bool


@router.get("/devices/{device_id}/faces", response=FaceFeedOut, auth=DeviceSignatureAuth())
def face_feed(
    request: HttpRequest,
    device_id: int,
    since: int = Query(0, ge=0),
    limit: int = Query(200, ge=1, le=selectors.FEED_MAX_LIMIT),
) -> dict[str, object]:
    """The face-library changes of the device's school after `since`. A device reads only its own feed."""
    device = device_of(request)
    if device.id != device_id:
        raise HttpError(403, "a device reads only its own feed")
    return selectors.device_feed(school_id=device.school_id, since=since, limit=limit)
