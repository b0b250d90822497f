"""deploy/k8s: both overlays render, validate against the Kubernetes schemas, and hang together.

Schemas: kubernetes-validate (strict: unknown fields fail) for the Kubernetes versions below;
the Prometheus Operator objects against small schemas of our own (their CRDs are not in the
core schemas). Beyond the schemas: references resolve, selectors match, pods are locked down,
ports agree with the services' configuration, peers are reached through headless Services, and
the NetworkPolicies let only the gateway take outside traffic.
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import re

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy_checks import (
    ADAPTER,
    K8S,
    OVERLAYS,
    SERVICES,
    component_of,
    find,
    one,
    pod_specs,
    render,
)

from cliplens.core.config import ServiceConfig, load_config

# The oldest Kubernetes release still in its cloud vendors' standard support, and the newest
# the schema package knows: covers autoscaling/v2, policy/v1, batch/v1 Indexed Jobs with
# backoffLimitPerIndex, gRPC probes and the preStop sleep action.
KUBE_VERSIONS = ("1.31.0", "1.37.0")
NAMESPACE = "cliplens"
EXAMPLE = K8S / "examples" / "mutual-knowledge"
# Secrets the operator creates (never committed); everything else a manifest names must render.
EXTERNAL_SECRETS = {"cliplens-gateway-keys", "cliplens-job-key"}
# Environment variables the services read outside their CLIPLENS_<SERVICE>_ section.
SHARED_ENV = {"OMP_NUM_THREADS"}

_DURATION = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_META = {"type": "object", "required": ["name"],
         "properties": {"name": {"type": "string"}, "labels": _STR_MAP}}
_SELECTOR = {"type": "object", "additionalProperties": False, "properties": {
    "matchLabels": _STR_MAP, "matchExpressions": {"type": "array"}}}
# monitoring.coreos.com/v1, the fields we use (a subset of the operator's CRDs).
CRD_SCHEMAS = {
    "ServiceMonitor": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "metadata": _META,
            "spec": {
                "type": "object", "additionalProperties": False,
                "required": ["selector", "endpoints"],
                "properties": {
                    "jobLabel": {"type": "string"},
                    "selector": _SELECTOR,
                    "namespaceSelector": {"type": "object"},
                    "endpoints": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "additionalProperties": False,
                        "anyOf": [{"required": ["port"]}, {"required": ["targetPort"]}],
                        "properties": {
                            "port": {"type": "string"}, "targetPort": {},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": _DURATION, "scrapeTimeout": _DURATION,
                            "honorLabels": {"type": "boolean"},
                            "relabelings": {"type": "array"},
                            "metricRelabelings": {"type": "array"}}}}}}}},
    "PrometheusRule": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "metadata": _META,
            "spec": {
                "type": "object", "additionalProperties": False, "required": ["groups"],
                "properties": {"groups": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["name", "rules"],
                    "properties": {
                        "name": {"type": "string"}, "interval": _DURATION,
                        "rules": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "additionalProperties": False,
                            "required": ["expr"],
                            "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                            "properties": {
                                "alert": {"type": "string", "pattern": "^[A-Z][A-Za-z0-9]+$"},
                                "record": {"type": "string"},
                                "expr": {"type": "string", "minLength": 1},
                                "for": _DURATION,
                                "labels": _STR_MAP, "annotations": _STR_MAP}}}}}}}}}},
    # cert-manager.io/v1, the fields we use.
    "Certificate": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "cert-manager.io/v1"},
            "metadata": _META,
            "spec": {
                "type": "object", "additionalProperties": False,
                "required": ["secretName", "issuerRef", "dnsNames"],
                "properties": {
                    "secretName": {"type": "string"},
                    "dnsNames": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "duration": {"type": "string", "pattern": r"^([0-9]+(h|m|s))+$"},
                    "renewBefore": {"type": "string", "pattern": r"^([0-9]+(h|m|s))+$"},
                    "usages": {"type": "array", "items": {"enum": [
                        "server auth", "client auth", "digital signature",
                        "key encipherment"]}},
                    "privateKey": {"type": "object", "additionalProperties": False,
                                   "properties": {
                                       "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                                       "size": {"type": "integer"},
                                       "rotationPolicy": {"enum": ["Never", "Always"]}}},
                    "issuerRef": {"type": "object", "additionalProperties": False,
                                  "required": ["name"], "properties": {
                                      "name": {"type": "string"},
                                      "kind": {"enum": ["Issuer", "ClusterIssuer"]},
                                      "group": {"type": "string"}}}}}}},
}
# Custom resources: checked against CRD_SCHEMAS (their CRDs are not in the core schemas).
CRD_GROUPS = ("monitoring.coreos.com/", "cert-manager.io/")


def overlay(name: str) -> list[dict]:
    return render(K8S / "overlays" / name)


def example() -> list[dict]:
    """The Indexed Job example and the aggregation Job applied after it."""
    aggregate = yaml.safe_load((EXAMPLE / "aggregate-job.yaml").read_text())
    return [*render(EXAMPLE), aggregate]


def objects_of(name: str) -> list[dict]:
    return example() if name == "example" else overlay(name)


def _config_class(service: str) -> type[ServiceConfig]:
    module = importlib.import_module(f"cliplens.{service}.config")
    classes = [c for c in vars(module).values() if isinstance(c, type)
               and issubclass(c, ServiceConfig) and c is not ServiceConfig]
    assert len(classes) == 1, f"cliplens.{service}.config: expected one config class"
    return classes[0]


def _defaults(service: str) -> dict[str, object]:
    return {f.name: f.default for f in dataclasses.fields(_config_class(service))}


def _container(objects: list[dict], service: str) -> dict:
    spec = one(objects, "Deployment", f"cliplens-{service}")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return container


def _env(objects: list[dict], service: str) -> dict[str, str]:
    """The environment the service's ConfigMap gives it."""
    (ref,) = _container(objects, service)["envFrom"]
    return dict(one(objects, "ConfigMap", ref["configMapRef"]["name"])["data"])


def _ports(container: dict) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container["ports"]}


# -- rendering and schemas ------------------------------------------------------------------


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_renders_every_service(name):
    objects = overlay(name)
    for service in SERVICES:
        one(objects, "Deployment", f"cliplens-{service}")
        one(objects, "PodDisruptionBudget", f"cliplens-{service}")
        assert find(objects, "Service", f"cliplens-{service}")
        assert [c for c in find(objects, "ConfigMap") if component_of(c) == service]
    for service in ("gateway", "embedding", "explanation"):
        one(objects, "HorizontalPodAutoscaler", f"cliplens-{service}")
    assert all(o["metadata"].get("namespace") == NAMESPACE for o in objects
               if o["kind"] != "Namespace")
    one(objects, "Namespace", NAMESPACE)


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("name", [*OVERLAYS, "example"])
def test_every_object_validates_against_the_kubernetes_schemas(name, version):
    objects = objects_of(name)
    problems = []
    for obj in objects:
        what = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["apiVersion"].startswith(CRD_GROUPS):
            try:
                jsonschema.validate(obj, CRD_SCHEMAS[obj["kind"]])
            except jsonschema.ValidationError as e:
                problems.append(f"{what}: {e.message} at {list(e.absolute_path)}")
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{what}: {str(e).splitlines()[0]} at {list(e.absolute_path)}")
        except kubernetes_validate.SchemaNotFoundError as e:
            problems.append(f"{what}: no schema for {obj['apiVersion']} in {version}: {e}")
    assert not problems, "\n".join(problems)


def test_the_schema_check_catches_a_misspelt_field():
    # The strict schemas are what make the check above worth having.
    deployment = one(overlay("local"), "Deployment", "cliplens-gateway")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)
    rule = one(overlay("gpu"), "PrometheusRule", "cliplens")
    rule["spec"]["groups"][0]["rules"][0]["fro"] = "5m"
    with pytest.raises(jsonschema.ValidationError, match="fro"):
        jsonschema.validate(rule, CRD_SCHEMAS["PrometheusRule"])


# -- references and selectors ---------------------------------------------------------------


def _matches(selector: dict, labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {"In": key in labels and labels[key] in values,
              "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[op]
        if not ok:
            return False
    return True


@pytest.mark.parametrize("name", [*OVERLAYS, "example"])
def test_every_reference_resolves(name):
    objects = objects_of(name)
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    # Secrets cert-manager writes for a rendered Certificate.
    issued = {c["spec"]["secretName"] for c in find(objects, "Certificate")}
    missing = []
    for workload, spec in pod_specs(objects):
        for container in spec["containers"]:
            for ref in container.get("envFrom", []):
                config = ref.get("configMapRef", {}).get("name")
                if config and ("ConfigMap", config) not in names:
                    missing.append(f"{workload}: ConfigMap {config}")
            for env in container.get("env", []):
                key = env.get("valueFrom", {}).get("secretKeyRef")
                if key and key["name"] not in EXTERNAL_SECRETS:
                    missing.append(f"{workload}: Secret {key['name']}")
            mounted = {m["name"] for m in container.get("volumeMounts", [])}
            declared = {v["name"] for v in spec.get("volumes", [])}
            missing += [f"{workload}: volume {v}" for v in mounted - declared]
        for volume in spec.get("volumes", []):
            if "configMap" in volume and ("ConfigMap", volume["configMap"]["name"]) not in names:
                missing.append(f"{workload}: ConfigMap {volume['configMap']['name']}")
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim and ("PersistentVolumeClaim", claim) not in names:
                missing.append(f"{workload}: PVC {claim}")
            secret = volume.get("secret", {}).get("secretName")
            if secret and secret not in EXTERNAL_SECRETS | issued:
                missing.append(f"{workload}: Secret {secret}")
        if spec.get("serviceAccountName"):
            if ("ServiceAccount", spec["serviceAccountName"]) not in names:
                missing.append(f"{workload}: ServiceAccount {spec['serviceAccountName']}")
    for hpa in find(objects, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if (ref["kind"], ref["name"]) not in names:
            missing.append(f"HPA {hpa['metadata']['name']}: {ref['kind']} {ref['name']}")
    assert not missing, missing


@pytest.mark.parametrize("name", OVERLAYS)
def test_selectors_match_exactly_their_own_pods(name):
    objects = overlay(name)
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
            for d in find(objects, "Deployment")}
    for deployment in find(objects, "Deployment"):
        labels = pods[deployment["metadata"]["name"]]
        assert _matches(deployment["spec"]["selector"], labels)
    for kind, key in (("Service", "selector"), ("PodDisruptionBudget", "selector")):
        for obj in find(objects, kind):
            selector = obj["spec"][key]
            selector = selector if "matchLabels" in selector else {"matchLabels": selector}
            matched = [d for d, labels in pods.items() if _matches(selector, labels)]
            expected = f"cliplens-{component_of(obj)}"
            assert matched == [expected], f"{kind} {obj['metadata']['name']} selects {matched}"


# -- pods -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*OVERLAYS, "example"])
def test_pods_meet_the_restricted_pod_security_standard(name):
    objects = objects_of(name)
    for workload, spec in pod_specs(objects):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] >= 1000, workload
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", workload
        assert spec.get("automountServiceAccountToken") is False, workload
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), workload
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, f"{workload}: hostPath volume"
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, workload
            assert sc["readOnlyRootFilesystem"] is True, workload
            assert sc["capabilities"]["drop"] == ["ALL"], workload
            assert not sc.get("privileged") and "add" not in sc["capabilities"], workload
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys(), workload
            assert {"cpu", "memory"} <= resources["limits"].keys(), workload
            # A read-only root needs somewhere to write temporary files.
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}, workload
    if name != "example":
        labels = one(objects, "Namespace", NAMESPACE)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("name", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_ports_and_grpc_probes_follow_the_service_configuration(name, service):
    objects = overlay(name)
    defaults = _defaults(service)
    container = _container(objects, service)
    ports = _ports(container)
    env = _env(objects, service)
    prefix = f"CLIPLENS_{service.upper()}_"
    wanted = {"grpc": defaults["port"], "metrics": defaults["metrics_port"]}
    # A TLS port needs a plaintext health-only port: the kubelet's gRPC probes cannot speak TLS.
    assert (f"{prefix}TLS_CERT" in env) == (f"{prefix}HEALTH_PORT" in env), service
    if f"{prefix}HEALTH_PORT" in env:
        wanted["health"] = int(env[f"{prefix}HEALTH_PORT"])
    assert ports == wanted
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == wanted.get("health", wanted["grpc"]), probe
        assert "service" not in container[probe]["grpc"]  # "" = the server's own readiness
    # Services listen on loopback by default: unreachable from the kubelet and peers.
    assert env[f"{prefix}HOST"] == "0.0.0.0" and env[f"{prefix}METRICS_HOST"] == "0.0.0.0"
    assert f"{prefix}PORT" not in env or int(env[f"{prefix}PORT"]) == defaults["port"]
    template = one(objects, "Deployment", f"cliplens-{service}")["spec"]["template"]
    assert template["metadata"]["annotations"]["prometheus.io/port"] == str(
        defaults["metrics_port"])
    for svc in find(objects, "Service"):
        if component_of(svc) == service:
            for port in svc["spec"]["ports"]:
                assert port["port"] == ports[port["name"]], svc["metadata"]["name"]
                assert port["targetPort"] == port["name"]
    grace = float(env.get(f"{prefix}GRACE_SECONDS", defaults["grace_seconds"]))
    stop = template["spec"]["terminationGracePeriodSeconds"]
    pause = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    assert stop > grace + pause, "the kubelet would kill the pod before the drain ends"


@pytest.mark.parametrize("name", OVERLAYS)
def test_embedding_startup_probe_allows_for_model_loading(name):
    probe = _container(overlay(name), "embedding")["startupProbe"]
    budget = probe["periodSeconds"] * probe["failureThreshold"]
    assert budget >= {"local": 300, "gpu": 600}[name]


@pytest.mark.parametrize("name", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_configmaps_hold_only_settings_the_service_knows(name, service, tmp_path):
    env = _env(overlay(name), service)
    prefix = f"CLIPLENS_{service.upper()}_"
    cls = _config_class(service)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = [k for k in env if not (k in SHARED_ENV or (k.startswith(prefix)
                                                           and k[len(prefix):].lower() in fields))]
    assert not unknown, f"{service} would ignore {unknown} (fields: {sorted(fields)})"
    # The values parse and pass the service's own validation (files stand in for mounts).
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys: []\n")
    scoped = {k: v for k, v in env.items() if k.startswith(prefix)}
    if f"{prefix}API_KEYS_FILE" in scoped:
        scoped[f"{prefix}API_KEYS_FILE"] = str(keys)
    for key in ("TLS_CERT", "TLS_KEY"):
        if f"{prefix}{key}" in scoped:
            (tmp_path / key).write_text("PEM\n")
            scoped[f"{prefix}{key}"] = str(tmp_path / key)
    load_config(cls, service, env=scoped)


# -- peers, Services and network policies ----------------------------------------------------

_TARGET = re.compile(r"^dns:///(?P<svc>[a-z0-9-]+)\.(?P<ns>[a-z0-9-]+)\.svc\.cluster\.local:"
                     r"(?P<port>\d+)$")


@pytest.mark.parametrize("name", OVERLAYS)
def test_peers_are_dialled_through_headless_services(name):
    objects = overlay(name)
    dialled = set()
    for service in ("gateway", "explanation"):
        for key, value in _env(objects, service).items():
            if not key.endswith("_TARGET"):
                continue
            peer = key.removeprefix(f"CLIPLENS_{service.upper()}_").removesuffix("_TARGET")
            m = _TARGET.match(value)
            assert m, f"{key}={value}: expected dns:///<service>.<namespace>.svc.cluster.local"
            assert m["ns"] == NAMESPACE, f"{key} points into namespace {m['ns']}"
            svc = one(objects, "Service", m["svc"])
            # Headless: DNS returns every pod, so round_robin balances calls, not connections.
            assert svc["spec"].get("clusterIP") == "None", f"{m['svc']} is not headless"
            assert component_of(svc) == peer.lower()
            assert int(m["port"]) == _defaults(peer.lower())["port"]
            dialled.add((service, peer.lower()))
    assert dialled == {("gateway", "embedding"), ("gateway", "lexicon"),
                       ("gateway", "explanation"), ("explanation", "embedding"),
                       ("explanation", "lexicon")}


def _allowed_sources(policies: list[dict], pod_labels: dict, port: str) -> set[str] | str:
    """Who may reach `port` of a pod: 'any', or components / 'ns:<name>' sources."""
    selecting = [p for p in policies if "Ingress" in p["spec"]["policyTypes"]
                 and _matches(p["spec"]["podSelector"], pod_labels)]
    if not selecting:
        return "any"
    sources: set[str] = set()
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            if rule.get("ports") and port not in {str(p["port"]) for p in rule["ports"]}:
                continue
            if not rule.get("from"):
                return "any"
            for peer in rule["from"]:
                if "namespaceSelector" in peer:
                    ns = peer["namespaceSelector"].get("matchLabels", {}).get(
                        "kubernetes.io/metadata.name", "*")
                    sources.add(f"ns:{ns}")
                elif "podSelector" in peer:
                    sources |= {c for c in SERVICES if _matches(
                        peer["podSelector"],
                        {"app.kubernetes.io/name": "cliplens", "app.kubernetes.io/component": c})}
                else:
                    sources.add("ipBlock")
    return sources


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_the_gateway_accepts_outside_traffic(name):
    objects = overlay(name)
    policies = find(objects, "NetworkPolicy")
    expected = {"gateway": "any", "explanation": {"gateway"},
                "embedding": {"gateway", "explanation"}, "lexicon": {"gateway", "explanation"}}
    for service, allowed in expected.items():
        labels = one(objects, "Deployment", f"cliplens-{service}")["spec"]["template"][
            "metadata"]["labels"]
        assert _allowed_sources(policies, labels, "grpc") == allowed, service
        assert _allowed_sources(policies, labels, "metrics") == {"ns:monitoring"}, service
    # Any other pod in the namespace (a Job, a debug pod) accepts nothing.
    assert _allowed_sources(policies, {"app": "other"}, "grpc") == set()


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_the_gateway_service_is_exposed(name):
    objects = overlay(name)
    for svc in find(objects, "Service"):
        if svc["metadata"]["name"] == "cliplens-gateway":
            assert [p["name"] for p in svc["spec"]["ports"]] == ["grpc"]  # metrics stay inside
            assert svc["spec"]["type"] == {"local": "ClusterIP", "gpu": "LoadBalancer"}[name]
        else:
            assert svc["spec"].get("type", "ClusterIP") == "ClusterIP"
            assert svc["spec"].get("clusterIP") == "None", svc["metadata"]["name"]


# -- autoscaling ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OVERLAYS)
def test_autoscalers(name):
    objects = overlay(name)
    for service in ("gateway", "explanation"):
        hpa = one(objects, "HorizontalPodAutoscaler", f"cliplens-{service}")["spec"]
        assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
        assert 1 <= hpa["minReplicas"] < hpa["maxReplicas"]
    embedding = one(objects, "HorizontalPodAutoscaler", "cliplens-embedding")["spec"]
    if name == "gpu":
        (metric,) = embedding["metrics"]
        assert metric["type"] == "Pods"
        assert metric["pods"]["metric"]["name"] == "cliplens_embedding_queue_seconds_avg"
    else:
        assert [m["resource"]["name"] for m in embedding["metrics"]] == ["cpu"]
    # Lexicon keeps its banks in one SQLite file on a ReadWriteOnce volume: one replica.
    assert not find(objects, "HorizontalPodAutoscaler", "cliplens-lexicon")
    lexicon = one(objects, "Deployment", "cliplens-lexicon")["spec"]
    assert lexicon["replicas"] == 1 and lexicon["strategy"]["type"] == "Recreate"


def test_prometheus_adapter_serves_the_metric_the_hpa_asks_for():
    rules = yaml.safe_load(ADAPTER.read_text())["rules"]["custom"]
    served = {r["name"]["as"] for r in rules}
    hpa = one(overlay("gpu"), "HorizontalPodAutoscaler", "cliplens-embedding")
    asked = {m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]}
    assert asked <= served
    for rule in rules:
        assert {"namespace", "pod"} <= rule["resources"]["overrides"].keys()
        assert "<<.LabelMatchers>>" in rule["metricsQuery"]
        assert "<<.GroupBy>>" in rule["metricsQuery"]


# -- the two overlays -------------------------------------------------------------------------


def test_gpu_overlay_runs_embedding_on_gpus_in_fp16_with_weights_from_a_volume():
    objects = overlay("gpu")
    deployment = one(objects, "Deployment", "cliplens-embedding")
    spec = deployment["spec"]["template"]["spec"]
    container = _container(objects, "embedding")
    assert container["image"].split("@")[0].endswith("/cliplens/embedding-cuda")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"]
    env = _env(objects, "embedding")
    assert env["CLIPLENS_EMBEDDING_DEVICE"] == "cuda"
    assert env["CLIPLENS_EMBEDDING_PRECISION"] == "fp16"
    mount = next(m for m in container["volumeMounts"]
                 if m["mountPath"] == env["CLIPLENS_EMBEDDING_MODEL_DIR"])
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    claim = one(objects, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert mount["readOnly"] is True and claim["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert find(objects, "ServiceMonitor") and find(objects, "PrometheusRule")
    dashboard = one(objects, "ConfigMap", "cliplens-grafana-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    # The gateway checks API keys mounted from the operator's Secret.
    gateway = _container(objects, "gateway")
    keys = _env(objects, "gateway")["CLIPLENS_GATEWAY_API_KEYS_FILE"]
    assert any(keys.startswith(m["mountPath"] + "/") for m in gateway["volumeMounts"])


def test_gpu_gateway_serves_tls_to_listed_networks_only():
    objects = overlay("gpu")
    service = one(objects, "Service", "cliplens-gateway")["spec"]
    assert service["type"] == "LoadBalancer"
    ranges = service["loadBalancerSourceRanges"]
    assert ranges and all(ipaddress.ip_network(r).prefixlen > 0 for r in ranges), ranges
    # TLS on the gRPC port, so it is no longer announced as cleartext HTTP/2.
    for svc in find(objects, "Service"):
        if component_of(svc) == "gateway":
            for port in svc["spec"]["ports"]:
                assert port.get("appProtocol") != "kubernetes.io/h2c", svc["metadata"]["name"]
    env = _env(objects, "gateway")
    gateway = _container(objects, "gateway")
    spec = one(objects, "Deployment", "cliplens-gateway")["spec"]["template"]["spec"]
    (certificate,) = find(objects, "Certificate")
    secret = certificate["spec"]["secretName"]
    (volume,) = [v for v in spec["volumes"] if v.get("secret", {}).get("secretName") == secret]
    (mount,) = [m for m in gateway["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    # cert-manager writes tls.crt and tls.key into the Secret.
    assert env["CLIPLENS_GATEWAY_TLS_CERT"] == f"{mount['mountPath']}/tls.crt"
    assert env["CLIPLENS_GATEWAY_TLS_KEY"] == f"{mount['mountPath']}/tls.key"
    assert "CLIPLENS_GATEWAY_TLS_CLIENT_CA" not in env  # public callers have no certificate
    assert certificate["spec"]["privateKey"]["rotationPolicy"] == "Always"
    # The in-cluster name the example Job dials is on the certificate.
    job_target = next(e["value"] for e in one(example(), "Job", "cliplens-mutual-knowledge")[
        "spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "CLIPLENS_TARGET")
    assert _TARGET.match(job_target)["svc"] + f".{NAMESPACE}.svc.cluster.local" in certificate[
        "spec"]["dnsNames"]


_REGISTRY_IMAGE = re.compile(r"^(?P<registry>localhost|[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?)/"
                             r"cliplens/(?P<name>[a-z-]+)(:(?P<tag>[\w.-]+))?"
                             r"(@sha256:(?P<digest>[0-9a-f]{64}))?$")


@pytest.mark.parametrize("name", [*OVERLAYS, "example"])
def test_images_come_from_a_named_registry(name):
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())["images"]
    known = {i["name"].split("/")[-1] for i in base} | {"embedding-cuda"}
    for workload, spec in pod_specs(objects_of(name)):
        for container in spec["containers"]:
            m = _REGISTRY_IMAGE.match(container["image"])
            # Never a bare "cliplens/x", which a runtime would fetch from Docker Hub.
            assert m, f"{workload}: {container['image']} names no registry"
            assert m["name"] in known, container["image"]
            if name == "gpu":
                assert m["digest"] and not m["tag"], f"{workload}: not pinned by digest"
            else:
                assert m["registry"] == "localhost", container["image"]
    aggregate = yaml.safe_load((EXAMPLE / "aggregate-job.yaml").read_text())
    shards = one(example(), "Job", "cliplens-mutual-knowledge")
    assert (aggregate["spec"]["template"]["spec"]["containers"][0]["image"]
            == shards["spec"]["template"]["spec"]["containers"][0]["image"])


def test_local_overlay_is_cpu_only_with_the_toyworld_model():
    objects = overlay("local")
    text = str(objects)
    assert "nvidia.com/gpu" not in text
    env = _env(objects, "embedding")
    assert env["CLIPLENS_EMBEDDING_DEVICE"] == "cpu"
    assert env["CLIPLENS_EMBEDDING_PRECISION"] == "fp32"
    assert "toyworld" in env["CLIPLENS_EMBEDDING_MODELS"].split(",")
    assert _container(objects, "embedding")["image"] == "localhost/cliplens/embedding:0.1.0"
    # No Prometheus Operator needed on a laptop cluster.
    assert not [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com")]


def _job_of(monitor: dict, endpoint: dict, service: dict) -> str:
    """The job label Prometheus gives a target of `service`, as the operator configures it:
    the Service's name (or its jobLabel's value), then the endpoint's relabelings."""
    meta = {"__meta_kubernetes_service_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k): v
            for k, v in service["metadata"]["labels"].items()}
    job = service["metadata"]["labels"].get(monitor.get("jobLabel", ""),
                                            service["metadata"]["name"])
    for rule in endpoint.get("relabelings", []):
        if rule.get("targetLabel") != "job" or rule.get("action", "replace") != "replace":
            continue
        values = [meta.get(source, "") for source in rule["sourceLabels"]]
        m = re.fullmatch(rule.get("regex", "(.*)"), rule.get("separator", ";").join(values))
        if m:
            job = m.expand(rule.get("replacement", "$1").replace("$", "\\"))
    return job


def test_servicemonitor_scrapes_each_pod_once_under_cliplens_job_names():
    objects = overlay("gpu")
    monitor = one(objects, "ServiceMonitor", "cliplens")["spec"]
    scraped = [s for s in find(objects, "Service")
               if _matches(monitor["selector"], s["metadata"]["labels"])]
    assert sorted(component_of(s) for s in scraped) == sorted(SERVICES)
    (endpoint,) = monitor["endpoints"]
    for svc in scraped:
        # The job names the alert rules and the dashboard select on.
        assert _job_of(monitor, endpoint, svc) == f"cliplens-{component_of(svc)}"
        assert endpoint["port"] in {p["name"] for p in svc["spec"]["ports"]}
    # The metrics' own `service` label must win over the Service's name.
    assert monitor["endpoints"][0]["honorLabels"] is True


# -- the Indexed Job example -------------------------------------------------------------------


def test_indexed_job_shards_through_the_gateway():
    objects = example()
    job = one(objects, "Job", "cliplens-mutual-knowledge")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert 1 <= spec["parallelism"] <= spec["completions"]
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["SHARDS"]) == spec["completions"]
    m = _TARGET.match(env["CLIPLENS_TARGET"])
    assert m and m["ns"] == job["metadata"]["namespace"] == NAMESPACE
    gateway = one(overlay("local"), "Service", m["svc"])
    assert component_of(gateway) == "gateway" and int(m["port"]) == _defaults("gateway")["port"]
    # The script the pods run is the one in the repository.
    volume = next(v for v in spec["template"]["spec"]["volumes"] if "configMap" in v)
    config = one(objects, "ConfigMap", volume["configMap"]["name"])
    assert config["data"]["shard_job.py"] == (EXAMPLE / "shard_job.py").read_text()
    assert container["command"][:2] == ["python", "/job/shard_job.py"]


def test_aggregation_job_reads_what_the_shards_write():
    objects = example()
    shards = one(objects, "Job", "cliplens-mutual-knowledge")["spec"]["template"]["spec"]
    aggregate = one(objects, "Job", "cliplens-mutual-knowledge-aggregate")["spec"]["template"][
        "spec"]

    def env(spec):
        return {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}

    for key in ("SHARDS", "DATASET_DIR"):
        assert env(aggregate)[key] == env(shards)[key], key
    assert aggregate["containers"][0]["command"][-1] == "aggregate"
    volumes = {v["name"]: v for v in shards["volumes"]}
    assert {v["name"]: v for v in aggregate["volumes"]} == volumes
    assert one(objects, "Job", "cliplens-mutual-knowledge-aggregate")["metadata"][
        "namespace"] == NAMESPACE
