# The platform image: API, workers, gateway, migrations and local cloud share it; docker-compose.yml
# picks the command. The base is pinned to a patch release (the locks are for Python 3.11).
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# The locked versions first (hash-checked; the lock pins every dependency, so --no-deps), so a
# code change does not re-install them.
COPY pyproject.toml requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY api ./api
COPY activities ./activities
COPY contracts ./contracts
COPY core ./core
COPY gateway ./gateway
COPY localcloud ./localcloud
COPY providers ./providers
COPY store ./store
COPY temporal ./temporal
COPY workflows ./workflows
COPY worker.py ./
RUN pip install --no-deps . && useradd --create-home platform && mkdir -p /app/.data \
    && chown platform /app/.data
USER platform

EXPOSE 8000
# Keep-alive longer than clients keep idle connections (core/settings.py SERVER_KEEP_ALIVE_SECONDS).
CMD ["python", "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--timeout-keep-alive", "75"]
