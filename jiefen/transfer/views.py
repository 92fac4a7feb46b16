"""Web import for admins and CSV export of a case list."""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiefen.cases import queries
from jiefen.cases.models import CaseType, Channel
from jiefen.core.errors import DomainError, InvalidInput
from jiefen.core.parse import int_or_none
from jiefen.org.models import Role
from jiefen.transfer import readers, services, tasks
from jiefen.transfer.models import ImportMapping, ImportRun

MAX_UPLOAD = 200 * 1024 * 1024


def _admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.has_role(Role.ADMIN))  # type: ignore[union-attr]


@require_http_methods(["GET", "POST"])
@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    if not _admin(request):
        return render(request, "403.html", status=403)
    context: dict[str, Any] = {
        "mappings": ImportMapping.objects.all(),
        "runs": ImportRun.objects.all()[:20],
        "channels": Channel.choices,
        "case_types": CaseType.choices,
        "keys": services.KEYS,
        "values": request.POST,
    }
    if request.method == "GET":
        return render(request, "transfer/import.html", context)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput("请选择要导入的文件")
        suffix = readers.kind_of(upload.name or "")
        if upload.size and upload.size > MAX_UPLOAD:
            raise InvalidInput("文件不能超过 200 MB")
        mapping = None
        if request.POST.get("mapping"):
            mapping = ImportMapping.objects.filter(pk=int_or_none(request.POST.get("mapping")) or 0).first()
        columns = (
            services.parse_mapping(request.POST.get("columns", "")) if request.POST.get("columns") else None
        )
        if columns is None:
            if mapping is None:
                raise InvalidInput("请选择已保存的字段对应，或填写字段对应")
            columns = mapping.columns
        if request.POST.get("save_as"):
            services.save_mapping(
                name=request.POST["save_as"],
                columns=columns,
                source=request.POST.get("source", ""),
                channel=request.POST.get("channel", ""),
                case_type=request.POST.get("case_type", ""),
            )
        folder = Path(settings.DATA_DIR) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{timezone.now():%Y%m%d%H%M%S}-{secrets.token_hex(4)}{suffix}"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        run = services.start_run(
            path=path,
            file_name=upload.name or path.name,
            columns=columns,
            source=request.POST.get("source", "") or (mapping.source if mapping else ""),
            channel=request.POST.get("channel")
            or (mapping.channel if mapping and mapping.channel else "import"),
            case_type=request.POST.get("case_type")
            or (mapping.case_type if mapping and mapping.case_type else "complaint"),
            started_by=request.user,
        )
    except (DomainError, readers.UnreadableFile) as exc:
        context["error"] = getattr(exc, "message", str(exc))
        return render(request, "transfer/import.html", context, status=400)
    # Inline in the embedded mode; a worker picks it up in production.
    tasks.run_import.delay(run.pk)
    messages.success(request, _("导入已开始"))
    return redirect("transfer:import_run", run_id=run.pk)


@login_required
def import_run(request: HttpRequest, run_id: int) -> HttpResponse:
    if not _admin(request):
        return render(request, "403.html", status=403)
    run = get_object_or_404(ImportRun, pk=run_id)
    return render(request, "transfer/run.html", {"run": run})


@login_required
def import_rejects(request: HttpRequest, run_id: int) -> HttpResponse | FileResponse:
    if not _admin(request):
        return render(request, "403.html", status=403)
    run = get_object_or_404(ImportRun, pk=run_id)
    if not run.rejects_file or not Path(run.rejects_file).exists():
        raise Http404("no rejects")
    return FileResponse(
        open(run.rejects_file, "rb"), as_attachment=True, filename=f"import-{run.pk}-rejects.csv"
    )


@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    """The case list, with the list's own filters, as CSV; personal data masked unless the user may see it."""
    g = request.GET
    filters = queries.CaseFilters.from_query(g)
    cases = queries.filter_cases(queries.cases_visible_to(request.user), filters)
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    applied = {k: str(v) for k, v in vars(filters).items() if v}
    services.export_cases(cases=cases, out=out, user=request.user, target="web", filters=applied)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{timezone.localdate():%Y%m%d}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response
