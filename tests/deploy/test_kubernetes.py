"""deploy/kubernetes/: every resource validates against the Kubernetes API's schemas (offline, strict),
and the Deployments run the Procfile's commands with probes, ports, grace periods and settings that
match what the app serves and reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from .files import (
    DEFAULT_PORT,
    DRAIN_SECONDS,
    HEALTH_PATHS,
    ROOT,
    check_settings,
    procfile_words,
    yaml_documents,
)
from .test_docker import only

KUBERNETES = ROOT / "deploy" / "kubernetes"
# The oldest minor release still widely run, and the newest one kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ("1.33", latest_version())
# `kubectl apply -f deploy/kubernetes/` takes these, and nothing beneath or beside them.
APPLIED_WITH_THE_FOLDER = {"configmap.yaml", "http-mode.yaml"}


def manifest_files() -> list[Path]:
    return sorted([*KUBERNETES.rglob("*.yaml"), *KUBERNETES.rglob("*.yaml.example")])


def resources() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, document) for path in manifest_files() for document in yaml_documents(path)]


def resource(kind: str, name: str) -> dict[str, Any]:
    (found,) = [r for _, r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


HTTP = "yunxin-conversation-bot"
SOCKET_MODE = "yunxin-conversation-bot-socket-mode"


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only_container,) = deployment["spec"]["template"]["spec"]["containers"]
    return only_container


def env_value(c: dict[str, Any], name: str) -> str | None:
    return next((e["value"] for e in c.get("env", []) if e["name"] == name), None)


def probe_port(c: dict[str, Any], probe: dict[str, Any]) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in c["ports"] if p["name"] == port]
    return int(number)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("path", "document"), resources(), ids=lambda v: v.name if isinstance(v, Path) else None)
def test_valid_against_the_kubernetes_schemas(path: Path, document: dict[str, Any], version: str) -> None:
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        location = "/".join(map(str, error.path))
        pytest.fail(f"{path.relative_to(ROOT)}: {document['kind']} {location}: {error.message}")


def test_the_folder_applies_http_mode_only_and_never_the_secret_template() -> None:
    """kubectl apply -f DIR reads DIR's *.yaml, *.yml and *.json, not its subfolders."""
    applied = {p.name for p in KUBERNETES.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".json")}
    assert applied == APPLIED_WITH_THE_FOLDER
    assert (KUBERNETES / "socket-mode" / "deployment.yaml").is_file()


def test_the_secret_holds_placeholders_only() -> None:
    secret = resource("Secret", HTTP)
    values = secret["stringData"]
    assert values and all("REPLACE-ME" in value for value in values.values())
    assert "data" not in secret


def test_every_variable_set_is_a_setting() -> None:
    names: list[tuple[str, str]] = []
    for path, document in resources():
        where = str(path.relative_to(ROOT))
        if document["kind"] in ("ConfigMap", "Secret"):
            names += [(key, where) for key in {**document.get("data", {}), **document.get("stringData", {})}]
        if document["kind"] == "Deployment":
            names += [(e["name"], where) for e in container(document).get("env", [])]
    for path in manifest_files():
        # Settings offered in comments, to uncomment: `  # REDIS_URL: redis://...`
        commented = re.findall(r"^\s*# ([A-Z][A-Z0-9_]+): \S", path.read_text(encoding="utf-8"), re.M)
        names += [(name, f"{path.relative_to(ROOT)} (commented out)") for name in commented]
    assert len(names) > 5, "no variables found: the test reads the wrong thing"
    check_settings(names)


@pytest.mark.parametrize("name", [HTTP, SOCKET_MODE])
def test_pods_read_the_configmap_and_the_secret(name: str) -> None:
    sources = container(resource("Deployment", name))["envFrom"]
    assert {"configMapRef": {"name": HTTP}} in sources and {"secretRef": {"name": HTTP}} in sources
    resource("ConfigMap", HTTP)


@pytest.mark.parametrize("name", [HTTP, SOCKET_MODE])
def test_pods_run_as_the_images_non_root_user_and_are_locked_down(name: str) -> None:
    pod = resource("Deployment", name)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == only("USER").split(":")[0]
    assert pod["automountServiceAccountToken"] is False
    security = container(resource("Deployment", name))["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("name", [HTTP, SOCKET_MODE])
def test_resources_are_requested_and_memory_is_limited(name: str) -> None:
    limits = container(resource("Deployment", name))["resources"]
    assert {"cpu", "memory"} <= set(limits["requests"]) and "memory" in limits["limits"]


@pytest.mark.parametrize("name", [HTTP, SOCKET_MODE])
def test_selectors_match_their_pods(name: str) -> None:
    deployment = resource("Deployment", name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


# --- HTTP mode ------------------------------------------------------------------------------------------


def test_http_mode_runs_the_procfiles_web_line_on_its_port() -> None:
    bot = container(resource("Deployment", HTTP))
    assert bot["command"] == procfile_words("web", port="$(PORT)")
    port = int(env_value(bot, "PORT") or DEFAULT_PORT)
    assert port == DEFAULT_PORT
    assert [p["containerPort"] for p in bot["ports"]] == [port]


def test_http_mode_runs_two_replicas_and_keeps_one_through_disruptions() -> None:
    deployment = resource("Deployment", HTTP)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    budget = resource("PodDisruptionBudget", HTTP)
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]


def test_http_mode_probes_ask_the_apps_health_paths() -> None:
    bot = container(resource("Deployment", HTTP))
    assert bot["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert bot["startupProbe"]["httpGet"]["path"] == "/livez"
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert bot[kind]["httpGet"]["path"] in HEALTH_PATHS
        assert probe_port(bot, bot[kind]) == DEFAULT_PORT


def test_http_mode_grace_period_covers_the_pre_stop_pause_and_the_drain() -> None:
    pod = resource("Deployment", HTTP)["spec"]["template"]["spec"]
    pause = container(resource("Deployment", HTTP))["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(pause[1]) + DRAIN_SECONDS


def test_the_service_sends_to_the_http_port_of_http_mode_pods() -> None:
    service = resource("Service", HTTP)
    deployment = resource("Deployment", HTTP)
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in [p["name"] for p in container(deployment)["ports"]]


# --- Socket Mode ----------------------------------------------------------------------------------------


def test_socket_mode_runs_the_procfiles_worker_line_and_has_no_service() -> None:
    deployment = resource("Deployment", SOCKET_MODE)
    assert container(deployment)["command"] == procfile_words("worker", port="")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    services = [r for _, r in resources() if r["kind"] == "Service"]
    assert not [s for s in services if s["spec"]["selector"].items() <= labels.items()]


def test_socket_mode_probes_ask_metrics_port() -> None:
    deployment = resource("Deployment", SOCKET_MODE)
    bot = container(deployment)
    metrics_port = int(env_value(bot, "METRICS_PORT") or 0)
    assert metrics_port and metrics_port != DEFAULT_PORT
    assert bot["livenessProbe"]["httpGet"]["path"] == "/livez"
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert bot[kind]["httpGet"]["path"] in HEALTH_PATHS
        assert probe_port(bot, bot[kind]) == metrics_port
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > DRAIN_SECONDS
