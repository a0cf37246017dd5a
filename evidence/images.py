"""Pictures sent as files: decoded and encoded again with Pillow, so nothing but pixels stays.

EXIF (GPS, camera make, model and serial, owner), XMP, IPTC, comments, embedded thumbnails and
whatever a phone appends after the picture (motion-photo videos, extra frames) are not pixels:
a fresh encoding drops them all. The EXIF orientation is applied to the pixels first, so the
picture still stands the right way up; a colour profile is converted to sRGB and dropped (a
profile can name the device).
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms, ImageOps, ImageSequence

# A 20 MB file can still claim a billion pixels (a decompression bomb): refuse past this.
MAX_PIXELS = 80_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

#: Formats written back as they came; anything else (TIFF, BMP) becomes PNG.
_KEEP = {"jpeg": ("JPEG", "jpg"), "png": ("PNG", "png"), "gif": ("GIF", "gif"),
         "webp": ("WEBP", "webp")}


def clean_image(data: bytes, fmt: str) -> tuple[bytes, str]:
    """The picture encoded anew without metadata: (bytes, extension)."""
    pil_format, extension = _KEEP.get(fmt, ("PNG", "png"))
    with Image.open(io.BytesIO(data)) as image:
        if getattr(image, "n_frames", 1) > 1 and pil_format in ("GIF", "WEBP"):
            return _animated(image, pil_format), extension
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # a multi-page TIFF: its first page only
        picture = ImageOps.exif_transpose(image) or image.copy()
    picture = _to_srgb(picture)
    picture.info = {}
    out = io.BytesIO()
    if pil_format == "JPEG":
        if picture.mode not in ("RGB", "L", "CMYK"):
            picture = picture.convert("RGB")
        picture.save(out, "JPEG", quality=92, optimize=True)
    elif pil_format == "WEBP":
        picture.save(out, "WEBP", quality=90)
    else:
        picture.save(out, pil_format, optimize=pil_format == "PNG")
    return out.getvalue(), extension


def _to_srgb(picture: Image.Image) -> Image.Image:
    """Colours as the profile meant them, in sRGB (which needs no profile)."""
    profile = picture.info.get("icc_profile")
    if not profile or picture.mode not in ("RGB", "RGBA", "CMYK"):
        return picture
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output_mode = "RGBA" if picture.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            picture, source, ImageCms.createProfile("sRGB"), outputMode=output_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return picture  # an unreadable profile: the pixels as they are, without it
    return converted or picture


def _animated(image: Image.Image, pil_format: str) -> bytes:
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        copy = frame.copy()
        copy.info = {}
        frames.append(copy)
    loop = int(image.info.get("loop", 0))
    out = io.BytesIO()
    frames[0].save(
        out, pil_format, save_all=True, append_images=frames[1:], duration=durations, loop=loop
    )
    return out.getvalue()
