# Pantau's Airflow image: Python 3.11, the pinned requirements (Airflow 3 with the Celery and SMTP providers),
# the project installed in place. One image for every service of docker-compose.yml.
#
# BASE_IMAGE must be Debian bookworm-like with Python 3.11 and its venv module: the default is the official
# slim image; `make test-compose` builds one locally with debootstrap (no image registry there).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PANTAU_HOME=/opt/pantau \
    VIRTUAL_ENV=/opt/pantau/.venv \
    PATH=/opt/pantau/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The official image's convention: uid 50000, group 0, so files written to mounted volumes stay readable.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow

WORKDIR /opt/pantau
COPY requirements.txt pyproject.toml ./
RUN python3 -m venv "$VIRTUAL_ENV" && pip install -r requirements.txt

COPY etl etl
COPY dags dags
COPY sql sql
COPY expectations expectations
COPY registry registry
RUN pip install --no-deps -e . \
    && mkdir -p /opt/pantau/data /opt/airflow/logs /opt/airflow/auth \
    && chown -R 50000:0 /opt/pantau/data /opt/airflow \
    && chmod -R g+rwX /opt/pantau/data /opt/airflow

USER 50000
EXPOSE 8080
# `airflow <command>` (api-server, scheduler, dag-processor, triggerer, celery worker, ...), as in the official image.
ENTRYPOINT ["airflow"]
CMD ["version"]
