# syntax=docker/dockerfile:1
# support-portal: one image for web (default CMD), Celery worker and Celery beat.
#   docker build -t support-portal .
#   docker run --rm -p 8000:8000 -e SECRET_KEY=... -e ALLOWED_HOSTS=localhost ... support-portal
# Production settings: the process refuses to start without SECRET_KEY and ALLOWED_HOSTS.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORT=8000

RUN groupadd --system portal \
    && useradd --system --gid portal --create-home --home-dir /home/portal \
        --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies first, so code changes reuse this layer. Every wheel is hash-checked. Only
# the run-time set: tests and tooling (requirements-dev.lock) stay out of the image.
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .

# collectstatic imports the production settings, which refuse to start without a strong
# SECRET_KEY: generate a throwaway one for this RUN only (it is not stored in the image).
# var/ holds runtime state (media, beat schedule) and must be writable by the app user.
RUN ALLOWED_HOSTS=build \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var/media \
    && chown -R portal:portal var

USER portal
EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:${PORT} --workers 2 --access-logfile -"]
