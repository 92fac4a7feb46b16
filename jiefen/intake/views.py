from django.http import HttpRequest, HttpResponse


def register(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=404)


lookup = sessions = session_detail = visits = new_visit = register
