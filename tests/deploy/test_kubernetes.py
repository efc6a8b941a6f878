"""deploy/k8s: the base and each overlay render with `kubectl kustomize` (offline) and every
resource validates against the Kubernetes schemas; probes, resources, security, autoscaling,
disruption budgets, network policies, TLS ingress and the migration Job are what they claim."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # the oldest version we support; its schemas are the strictest
TARGETS = ("base", "overlays/dev", "overlays/production")


def render(target: str) -> list[dict[str, Any]]:
    """The target's resources: rendered by kubectl when installed, else the base's files."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if target != "base":
            pytest.skip("kubectl is not installed: overlays are rendered only with it")
        text = "\n---\n".join(
            p.read_text()
            for p in sorted((K8S / "base").glob("*.yaml"))
            if p.name != "kustomization.yaml"
        )
    else:
        text = subprocess.run(
            [kubectl, "kustomize", str(K8S / target)],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    return [d for d in YAML(typ="safe").load_all(text) if d]


def find(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"].startswith(name)]
    assert matches, f"no {kind} {name}"
    return min(matches, key=lambda r: len(r["metadata"]["name"]))


@pytest.mark.parametrize("target", TARGETS)
def test_every_resource_validates_against_the_kubernetes_schemas(target: str) -> None:
    resources = render(target)
    kinds = {r["kind"] for r in resources}
    assert {
        "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
        "NetworkPolicy", "Ingress", "Job",
    } <= kinds  # fmt: skip
    for resource in resources:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_wrong_resource() -> None:
    (deployment,) = [
        r for r in render("base") if r["metadata"]["name"] == "parley" and r["kind"] == "Deployment"
    ]
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("target", TARGETS)
def test_pods_are_probed_limited_and_locked_down(target: str) -> None:
    resources = render(target)
    server = find(resources, "Deployment", "parley")["spec"]["template"]["spec"]
    (container,) = server["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    for kind, name in (
        ("Deployment", "parley"),
        ("Deployment", "parley-actions"),
        ("Job", "parley-migrate"),
    ):
        pod = find(resources, kind, name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_autoscalers_and_budgets_point_at_the_deployments() -> None:
    resources = render("overlays/production")
    deployments = {r["metadata"]["name"]: r for r in resources if r["kind"] == "Deployment"}
    for name in ("parley", "parley-actions"):
        hpa = find(resources, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        pdb = find(resources, "PodDisruptionBudget", name)
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert find(resources, "HorizontalPodAutoscaler", "parley")["spec"]["minReplicas"] == 3


def test_ingress_terminates_tls_with_cert_manager_and_policies_restrict_traffic() -> None:
    resources = render("base")
    ingress = find(resources, "Ingress", "parley")
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"] and tls["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    actions_policy = find(resources, "NetworkPolicy", "parley-actions")
    (allowed,) = actions_policy["spec"]["ingress"]
    assert allowed["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "parley"}}}
    ]


def test_migrations_run_as_a_job_and_secrets_come_from_secrets_or_vault() -> None:
    dev = render("overlays/dev")
    job = find(dev, "Job", "parley-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert job["args"][:2] == ["db", "migrate"]
    secret_names = {r["metadata"]["name"] for r in dev if r["kind"] == "Secret"}
    referenced = {e["secretRef"]["name"] for e in job["envFrom"] if "secretRef" in e}
    assert referenced <= secret_names  # the generated name, hash suffix included
    production = render("overlays/production")
    assert not [r for r in production if r["kind"] == "Secret"]  # no secret values committed
    endpoints = find(production, "ConfigMap", "parley-endpoints")["data"]["endpoints.yml"]
    assert "${vault:secret/parley#postgres_password}" in endpoints


def test_configured_endpoints_are_what_parley_accepts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from parley.observability.operations import Operations
    from parley.security import ProjectSecrets

    dev = render("overlays/dev")
    hosts = find(dev, "ConfigMap", "parley-hosts")["data"]
    for key, value in hosts.items():
        monkeypatch.setenv(key, value)
    secret = find(dev, "Secret", "parley-secrets")["data"]
    for key, value in secret.items():
        monkeypatch.setenv(key, base64.b64decode(value).decode())
    config = find(dev, "ConfigMap", "parley-endpoints")["data"]["endpoints.yml"]
    (tmp_path / "endpoints.yml").write_text(config)
    endpoints = ProjectSecrets(tmp_path).endpoints()
    assert endpoints["action_endpoint"]["url"] == "http://parley-actions:5055/webhook"
    assert endpoints["tracker_store"]["password"] == "dev-postgres"
    Operations.from_endpoints(endpoints)
    production = YAML(typ="safe").load(
        (K8S / "overlays" / "production" / "endpoints.yml").read_text()
    )
    ops = Operations.from_endpoints(production)
    assert ops.tracing.enabled and ops.redactor is not None
    assert ops.redactor.config.applies_to("tracker_store")
