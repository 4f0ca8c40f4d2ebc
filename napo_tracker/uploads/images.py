"""PNG and JPEG images redrawn from their pixels alone: EXIF, GPS and text chunks do not survive."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from .kinds import FileKind, UploadRefused

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
_PILLOW_FORMAT = {"png": "PNG", "jpg": "JPEG"}


def image_kind(head: bytes) -> str | None:
    """``"png"`` or ``"jpg"`` from a file's first bytes, or None."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(JPEG_SIGNATURE):
        return "jpg"
    return None


def too_many(max_pixels: int) -> str:
    return f"the most we accept is {max_pixels / 1_000_000:g} million pixels. Please send a smaller copy."


def clean_image(data: bytes, kind: FileKind, max_pixels: int, what: str = "This image") -> bytes:
    """Re-draw an image from its pixels; refuse one larger than ``max_pixels`` before decoding it.

    ``what`` names the image in messages ("An image inside this document").
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the decoder of the kind the bytes were recognised as: no other plug-in is tried.
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[kind.extension]]) as image:
                # The header states what the decoder will allocate: refuse before it does.
                width, height = image.size
                if width * height > max_pixels:
                    raise UploadRefused(f"{what} is too large: {width} × {height} pixels; {too_many(max_pixels)}")
                image.load()
                upright = ImageOps.exif_transpose(image)  # keep the way the photo was held
    except UploadRefused:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        # Pillow's own guard (``Image.MAX_IMAGE_PIXELS``, set to the same cap where uploads are
        # cleaned) can speak first.
        raise UploadRefused(f"{what} is too large: {too_many(max_pixels)}") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UploadRefused(f"{what} could not be read. Please send a PNG or JPEG image.") from error
    mode = upright.mode
    if kind.extension == "jpg" and mode not in ("RGB", "L", "CMYK"):
        mode = "RGB"
    elif kind.extension == "png" and mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"):
        mode = "RGBA"
    pixels = upright.convert(mode) if mode != upright.mode else upright
    bare = Image.new(pixels.mode, pixels.size)
    palette = pixels.getpalette() if pixels.mode == "P" else None
    if palette is not None:
        bare.putpalette(palette)
    bare.paste(pixels)
    out = io.BytesIO()
    if kind.extension == "jpg":
        bare.save(out, format="JPEG", quality=92)
    else:
        bare.save(out, format="PNG", optimize=True)
    return out.getvalue()
