# One image for the web server (daphne), the Celery worker and Celery beat.
#
#   docker build -t support-portal .
#   docker compose up            (see docker-compose.yml)
#
# Translations and static files are built into the image; migrations run when
# the web container starts (they need the database).
FROM python:3.11-slim-bookworm

# VAR_DIR holds uploads, the Whoosh index and beat's schedule: a volume shared by
# web, worker and beat. Static files live in the image, outside that volume.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=support_portal.settings.production \
    VAR_DIR=/var/lib/portal \
    STATIC_ROOT=/app/staticfiles

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home portal

WORKDIR /app

# Dependencies first: this layer is reused while requirements.txt is unchanged.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# compile_catalogues and collectstatic import the production settings, which
# require a secret key and allowed hosts: placeholders that exist only during
# this RUN. A new volume starts as a copy of /var/lib/portal (owner included);
# beat's schedule folder must exist because only the filesystem broker creates
# VAR_DIR/celery.
RUN DJANGO_SECRET_KEY=build-only-placeholder DJANGO_ALLOWED_HOSTS=localhost \
        python manage.py compile_catalogues \
    && DJANGO_SECRET_KEY=build-only-placeholder DJANGO_ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /var/lib/portal/media /var/lib/portal/whoosh /var/lib/portal/celery \
    && chown -R portal:portal /var/lib/portal

USER portal
EXPOSE 8000

# The web server: migrations first (they need the database), then daphne.
# docker-compose.yml runs the same image as the worker and beat.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec daphne -b 0.0.0.0 -p 8000 support_portal.asgi:application"]
