"""Photo intake: judge an upload by its content, never its name or declared type.

An upload must decode as a JPEG, PNG or WebP image within the byte and pixel limits; it is then
re-encoded as a JPEG (orientation applied, longest side capped), which also drops EXIF metadata —
a citizen's photo must not publish the GPS track or phone model embedded in it.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass
from typing import Protocol

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from gridgov.common.errors import ValidationFailed

from .conf import conf

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MIN_SIDE = 32


class Upload(Protocol):
    name: str | None
    size: int | None

    def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile[bytes]
    width: int
    height: int
    size: int
    sha256: str


def _limits() -> tuple[int, int, int]:
    return int(conf("CASE_PHOTO_MAX_BYTES")), int(conf("CASE_PHOTO_MAX_PIXELS")), int(conf("CASE_PHOTO_MAX_SIDE"))


def clean_photo(upload: Upload, *, field: str = "photos") -> CleanPhoto:
    max_bytes, max_pixels, max_side = _limits()
    label = (upload.name or "").rsplit("/", 1)[-1][:60] or "照片"
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationFailed(
            f"{label}：照片不能超过 {max_bytes // (1024 * 1024)} MB", field=field, rule="cases.photo.size"
        )
    raw = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValidationFailed(
            f"{label}：照片不能超过 {max_bytes // (1024 * 1024)} MB", field=field, rule="cases.photo.size"
        )
    if not raw:
        raise ValidationFailed(f"{label}：文件为空", field=field, rule="cases.photo.content")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(raw))
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationFailed(
                    f"{label}：只接受 JPEG、PNG、WebP 格式的照片", field=field, rule="cases.photo.format"
                )
            if width * height > max_pixels:
                raise ValidationFailed(
                    f"{label}：图片像素过多（{width}×{height}），上限 {max_pixels // 1_000_000} 百万像素",
                    field=field,
                    rule="cases.photo.pixels",
                )
            if min(width, height) < MIN_SIDE:
                raise ValidationFailed(f"{label}：图片尺寸过小", field=field, rule="cases.photo.pixels")
            probe.verify()
            image: Image.Image = Image.open(io.BytesIO(raw))
            image.load()
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationFailed(f"{label}：不是有效的图片文件", field=field, rule="cases.photo.content") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data inside a valid header
        raise ValidationFailed(f"{label}：图片文件已损坏", field=field, rule="cases.photo.content") from exc
    image = ImageOps.exif_transpose(image) or image
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    data = out.getvalue()
    return CleanPhoto(
        content=ContentFile(data, name=f"{uuid.uuid4().hex}.jpg"),
        width=image.width,
        height=image.height,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def clean_photos(uploads: list[Upload] | tuple[Upload, ...], *, field: str = "photos") -> list[CleanPhoto]:
    limit = int(conf("CASE_PHOTOS_PER_ACTION"))
    if len(uploads) > limit:
        raise ValidationFailed(f"每次最多上传 {limit} 张照片", field=field, rule="cases.photo.count")
    return [clean_photo(u, field=field) for u in uploads]
