"""Downloading an issued document, as DOCX or PDF, for staff who may see its case."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from jiefen.cases.queries import get_case_for_user
from jiefen.documents.models import IssuedDocument
from jiefen.documents.services import to_docx, to_pdf

FORMATS = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", to_docx),
    "pdf": ("application/pdf", to_pdf),
}


def document_response(document: IssuedDocument, fmt: str) -> HttpResponse:
    content_type, render = FORMATS[fmt]
    response = HttpResponse(render(document), content_type=content_type)
    filename = quote(f"{document.number} {document.title}.{fmt}")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


@login_required
def download(request: HttpRequest, case_id: int, document_id: int, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("unknown format")
    case = get_case_for_user(request.user, case_id)
    document = IssuedDocument.objects.filter(case=case, pk=document_id).first()
    if document is None:
        raise Http404("no such document")
    return document_response(document, fmt)
