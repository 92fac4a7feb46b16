from django.http import HttpRequest, HttpResponse


def import_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=404)


import_run = import_rejects = export_csv = import_page
