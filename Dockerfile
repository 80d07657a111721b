# The production image: gunicorn serving the app, static files through whitenoise.
# The same image runs the Celery worker and beat (docker-compose.yml sets their commands).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, read from pyproject.toml, so that a change to the code reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself. Editable, so that the settings' BASE_DIR is /app and the templates
# and static folders beside the packages are found.
COPY . .
RUN pip install --no-deps --editable . \
    && DEBUG=0 EMAIL_URL=smtp://localhost:25 SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown -R app:app /app/var

# The code stays owned by root: the app can read it, not change it.
USER app

EXPOSE 8000

# exec: gunicorn becomes PID 1 and receives the stop signal itself. gunicorn.conf.py sends its
# access and error lines through the app's scrubbing log handler.
CMD ["sh", "-c", "exec gunicorn learnertracking.wsgi:application -c gunicorn.conf.py --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --worker-class gthread --threads ${WEB_THREADS:-8} --keep-alive 10 --worker-tmp-dir /dev/shm"]
