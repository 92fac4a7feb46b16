import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiefen.settings")
application = get_wsgi_application()

from jiefen.celery import load_for_sending  # noqa: E402 - needs the settings loaded above

load_for_sending()
