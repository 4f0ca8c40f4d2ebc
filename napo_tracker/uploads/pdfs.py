"""PDFs rewritten by qpdf (through pikepdf) without what says who made them.

Gone: the trailer's Info dictionary (/Author, /Creator, /Producer, dates…), every XMP
``/Metadata`` stream (the document's, and any page's or image's), applications' private
``/PieceInfo`` data, and the earlier revisions an incremental save leaves behind (qpdf writes
only the objects the document still uses). The file identifier is made afresh from the
content. Page and image streams are copied as they are, never decoded; the object streams
that hold the document's structure must be inflated to be read at all, which is why the
rewrite runs in the bounded child (``kernel.bounded``): a PDF built to inflate without end
only ends that child.
"""

from __future__ import annotations

import io

import pikepdf

from .kinds import UploadRefused

_IDENTIFYING_KEYS = ("/Metadata", "/PieceInfo")


def clean_pdf(data: bytes) -> bytes:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    for key in _IDENTIFYING_KEYS:
                        if key in obj:
                            del obj[key]
            out = io.BytesIO()
            pdf.save(
                out,
                deterministic_id=True,
                fix_metadata_version=False,
                encryption=False,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
            )
    except pikepdf.PasswordError as error:
        raise UploadRefused("This PDF is protected by a password. Please send a copy without one.") from error
    except pikepdf.PdfError as error:
        raise UploadRefused("This PDF could not be read. Please check it opens, then send it again.") from error
    return out.getvalue()
