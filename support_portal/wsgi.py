"""WSGI entry point (management tools and WSGI servers; the portal runs on ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support_portal.settings.local")

application = get_wsgi_application()
