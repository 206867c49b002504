"""What tests/ops/test_manifests.py checks the deployment files against: the services' own code (settings classes,
metrics modules, Dockerfiles, CLI), read here, and checkers that return a list of problems (empty = fine), so the
tests can also show that a broken manifest is caught.

    python tests/ops/ops_manifests.py prometheusrule > k8s/base/prometheusrule.yaml   # after editing alerts.yml
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = REPO / "k8s"
OVERLAYS = ("dev", "prod")
SECRET_NAME = "cxpulse-secrets"
# Every key of the Secret cxpulse-secrets a manifest may reference; deploy/README.md documents each.
SECRET_KEYS = {"kafka-sasl-password", "schema-registry-user-info", "webhook-secret", "supervisor-webhook-url",
               "slack-webhook-url", "smtp-username", "smtp-password", "insights-auth-users", "insights-auth-token"}
IMAGE_UID = 10001  # USER in every Dockerfile
REGISTRY_WORKLOAD = "schema-registry"  # Apicurio Registry, Confluent-compatible API; not a cxpulse service
SCHEMAS_JOB = "cxpulse-schemas"  # cxpulse schemas register: the deploy step before the services write


@dataclass(frozen=True)
class Service:
    name: str  # workload, container, compose service, Dockerfile folder, image cxpulse/<name>
    package: str  # python package
    settings_class: str  # in <package>.settings
    label: str  # value of the `service` label on its metrics
    cli_name: str  # cxpulse run <cli_name>
    workload_kind: str = "Deployment"
    sources: tuple[str, ...] = ()  # other packages shipped in its image whose code reads the environment
    more_settings: tuple[str, ...] = ()  # "<module>:<class>": settings classes it reads besides settings_class
    more_ports: tuple[tuple[str, str], ...] = ()  # (port name, field of settings_class whose default is the port)
    single_writer: bool = False  # exactly one replica, no autoscaling (a second one would write every output again)
    credentials: tuple[str, ...] = ()  # it refuses to start without one of these: each only from the Secret


SERVICES = {s.name: s for s in (
    Service("ingest", "cxpulse_ingest", "IngestSettings", "ingest", "ingest", "StatefulSet"),
    # Kafka transactions (ingest, sentiment) or static group membership (churn, routing) keyed on
    # CXPULSE_INSTANCE_ID: stable per replica -> StatefulSet.
    Service("sentiment", "cxpulse_sentiment", "SentimentSettings", "sentiment", "sentiment", "StatefulSet"),
    Service("churn", "cxpulse_churn", "ChurnSettings", "churn-scoring", "churn", "StatefulSet"),
    Service("routing", "cxpulse_routing", "RoutingSettings", "routing", "routing", "StatefulSet"),
    Service("notification", "cxpulse_notification", "NotificationSettings", "notification", "notification"),
    # Transactions keyed on CXPULSE_INSTANCE_ID (StatefulSet); the dashboard on its own port, behind credentials.
    Service("insights", "cxpulse_insights", "InsightsSettings", "insights", "insights", "StatefulSet",
            more_settings=("cxpulse_insights.auth:AuthSettings",), more_ports=(("web", "web_port"),),
            single_writer=True, credentials=("INSIGHTS_AUTH_USERS", "INSIGHTS_AUTH_TOKEN")),
)}
CREDENTIALS_OFF = "INSIGHTS_AUTH_DISABLED"  # for a trusted loopback only: never in a deployment
SHARED_SETTINGS = ("KafkaSettings", "SchemaRegistrySettings", "RuntimeSettings")  # in cxpulse_core.settings


# -- the services' side ----------------------------------------------------------------------------------------
def http_port() -> int:
    """The default of CXPULSE_HTTP_PORT (RuntimeSettings.http_port), not influenced by this process's environment."""
    from cxpulse_core.settings import RuntimeSettings

    return int(RuntimeSettings.model_fields["http_port"].default)


def settings_classes(svc: Service) -> list[type]:
    core = importlib.import_module("cxpulse_core.settings")
    own = importlib.import_module(f"{svc.package}.settings")
    more = [getattr(importlib.import_module(m), c) for m, _, c in (x.partition(":") for x in svc.more_settings)]
    return [getattr(core, n) for n in SHARED_SETTINGS] + [getattr(own, svc.settings_class), *more]


def service_ports(svc: Service) -> dict[str, int]:
    """Port name -> port the service listens on: `http` (ops endpoint) and its own (insights: `web`, the dashboard),
    from the settings' defaults."""
    own = getattr(importlib.import_module(f"{svc.package}.settings"), svc.settings_class)
    return {"http": http_port()} | {name: int(own.model_fields[field].default) for name, field in svc.more_ports}


def check_credentials(svc: Service, env: dict[str, Any], where: str, literal_ok: bool = False) -> list[str]:
    """A service with `credentials` gets at least one of them, never as a literal (unless `literal_ok`: compose's
    development values) and never switched off."""
    if not svc.credentials:
        return []
    problems = []
    if not set(svc.credentials) & set(env):
        problems.append(f"{where}: sets none of {list(svc.credentials)} (the service refuses to start without one)")
    literal = sorted(n for n in svc.credentials if env.get(n) is not None)
    if literal and not literal_ok:
        problems.append(f"{where}: {literal} must come from the Secret {SECRET_NAME}, not a literal value")
    if str(env.get(CREDENTIALS_OFF, "")).lower() in ("1", "true", "yes", "on"):
        problems.append(f"{where}: {CREDENTIALS_OFF} is for a trusted loopback, never a deployment")
    return problems


def env_prefix(cls: type) -> str:
    return cls.model_config.get("env_prefix", "")  # type: ignore[attr-defined]


def setting_names(svc: Service) -> dict[str, tuple[type, str]]:
    """Environment variable -> (settings class, field) for every setting the service reads."""
    return {f"{env_prefix(c)}{f}".upper(): (c, f) for c in settings_classes(svc) for f in c.model_fields}


ALL_PREFIXES = ("KAFKA_", "SCHEMA_REGISTRY_", "CXPULSE_", "INGEST_", "SENTIMENT_", "CHURN_", "ROUTING_",
                "NOTIFICATION_", "INSIGHTS_")
ENV_READ = re.compile(r"""(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
                      r"""|environ\[\s*["']([A-Z][A-Z0-9_]*)["']\]""")


@cache
def _package_dir(package: str) -> Path:
    return Path(importlib.import_module(package).__file__).parent  # type: ignore[arg-type]


@cache
def env_read_in_code(package: str) -> frozenset[str]:
    """Variables a package's code reads from os.environ directly (not through a settings class)."""
    found: set[str] = set()
    for path in _package_dir(package).rglob("*.py"):
        if "tests" in path.parts:
            continue
        for match in ENV_READ.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    return frozenset(found)


def direct_env(svc: Service) -> frozenset[str]:
    names: set[str] = set()
    for package in ("cxpulse_core", svc.package, *svc.sources):
        names |= env_read_in_code(package)
    return frozenset(names)


def dockerfile(name: str) -> Path:
    return REPO / "services" / name / "Dockerfile"


def dockerfile_instructions(path: Path) -> dict[str, list[str]]:
    """Instruction -> its arguments (one string per occurrence), continuation lines joined."""
    out: dict[str, list[str]] = {}
    text = re.sub(r"\\\n", " ", path.read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.setdefault(word.upper(), []).append(rest.strip())
    return out


def check_dockerfile(svc: Service) -> list[str]:
    path, problems = dockerfile(svc.name), []
    ins = dockerfile_instructions(path)
    exposed = {p.split("/")[0] for args in ins.get("EXPOSE", []) for p in args.split()}
    for name, port in service_ports(svc).items():
        if str(port) not in exposed:
            problems.append(f"{path}: EXPOSE {sorted(exposed)} lacks the {name} port {port}")
    for args in ins.get("ENV", []):
        for key, value in re.findall(r"(\w+)=(\S+)", args):
            if key == "CXPULSE_HTTP_PORT" and int(value) != http_port():
                problems.append(f"{path}: ENV CXPULSE_HTTP_PORT={value}, but the service's default is {http_port()}")
    entry = [json.loads(a) for a in ins.get("ENTRYPOINT", [])]
    if entry != [["cxpulse", "run", svc.cli_name]]:
        problems.append(f"{path}: ENTRYPOINT {entry} is not ['cxpulse', 'run', '{svc.cli_name}']")
    from cxpulse_core.cli import registered

    started = registered("cxpulse.services").get(svc.cli_name)
    if started is None or started.module.split(".")[0] != svc.package:
        problems.append(f"`cxpulse run {svc.cli_name}` does not start {svc.package} (its cxpulse.services entry point)")
    if ins.get("USER", [None])[-1] != str(IMAGE_UID):
        problems.append(f"{path}: USER {ins.get('USER')} is not {IMAGE_UID} (the manifests' runAsUser)")
    return problems


# -- metrics ---------------------------------------------------------------------------------------------------
METRIC_MODULES = ("cxpulse_core.metrics", *(f"{s.package}.metrics" for s in SERVICES.values()))


def _metric_objects(module_name: str) -> dict[str, Any]:
    """Attribute name -> metric object of a metrics module (absent module: {})."""
    from prometheus_client.metrics import MetricWrapperBase

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return {}
        raise
    return {k: v for k, v in vars(module).items() if isinstance(v, MetricWrapperBase)}


def sample_names(metric: Any) -> set[str]:
    """The series names Prometheus sees for one prometheus_client metric."""
    name, kind = metric._name, metric._type
    if kind == "counter":
        return {f"{name}_total", f"{name}_created"}
    if kind == "histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
    if kind == "summary":
        return {name, f"{name}_sum", f"{name}_count", f"{name}_created"}
    return {name}


@cache
def default_collector_names() -> frozenset[str]:
    """process_* and python_* from prometheus_client's default collectors, plus Prometheus's own `up`."""
    from prometheus_client.gc_collector import GC_COLLECTOR
    from prometheus_client.platform_collector import PLATFORM_COLLECTOR
    from prometheus_client.process_collector import PROCESS_COLLECTOR

    names = {"up"}
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        for family in collector.collect():
            names |= {s.name for s in family.samples} | {family.name}
            if family.type == "counter":
                names.add(f"{family.name}_total")
    return frozenset(names)


@cache
def catalogue() -> frozenset[str]:
    """Every series name any cxpulse service can export."""
    names: set[str] = set(default_collector_names())
    for module in METRIC_MODULES:
        for metric in _metric_objects(module).values():
            names |= sample_names(metric)
    return frozenset(names)


_LOOP_USE = re.compile(r"\b(?:metrics|m|core)\.([A-Z_]+)\b")


@cache
def emitted(svc_name: str) -> frozenset[str]:
    """Series names one service really exports: its own metrics module, the shared metrics its code uses
    (`<module>.NAME.labels(...)` / `child(metrics.NAME, ...)`), and all of the stream loop's when it runs the loop
    (cxpulse_core.runner: run_service or make_loop)."""
    svc = SERVICES[svc_name]
    core = _metric_objects("cxpulse_core.metrics")
    module = _metric_objects(f"{svc.package}.metrics")  # its own metrics and the shared ones it re-exports
    own = {k: v for k, v in module.items() if not any(v is c for c in core.values())}
    names: set[str] = set(default_collector_names())
    for metric in own.values():
        names |= sample_names(metric)
    code = "\n".join(p.read_text() for p in _package_dir(svc.package).rglob("*.py") if "tests" not in p.parts
                     and p.name != "metrics.py")
    # NAME in the service's code is its metrics module's NAME when that exists, else the shared one.
    used = {n for n in _LOOP_USE.findall(code) if n in core and module.get(n, core[n]) is core[n]}
    if re.search(r"\b(?:run_service|make_loop)\(", code):
        loop = "\n".join((_package_dir("cxpulse_core") / f).read_text() for f in ("loop.py", "produced.py"))
        used |= {n for n in _LOOP_USE.findall(loop) if n in core}
    if "AgentRuntime" in code:  # faust agents: core's agent runtime (and the lag report it runs)
        runtime = "\n".join((_package_dir("cxpulse_core") / f).read_text() for f in ("faust_agent.py", "faust_ops.py",
                                                                                        "produced.py"))
        used |= {n for n in _LOOP_USE.findall(runtime) if n in core}
    for n in used:
        names |= sample_names(core[n])
    return frozenset(names)


def labels_of_service() -> dict[str, str]:
    return {s.label: s.name for s in SERVICES.values()}


# -- PromQL ----------------------------------------------------------------------------------------------------
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
             "inf", "nan", "atan2"}
_CLAUSE = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


def promql_metrics(expr: str) -> set[str]:
    """Metric names an expression selects (functions, keywords, labels and Grafana variables left out)."""
    if (m := re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_:][\w:]*)\s*(?:\{[^}]*\})?\s*,.*\)\s*", expr)):
        return {m.group(1)}
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges, subqueries
    text = _CLAUSE.sub(" ", text)
    return {name for name, call in _IDENT.findall(text) if not call and name.lower() not in _KEYWORDS}


def promql_service_labels(expr: str) -> set[str]:
    """Values of service="..." matchers."""
    return set(re.findall(r'\bservice\s*=\s*"([^"]*)"', expr))


def check_expr(expr: str, where: str, svc_name: str | None = None) -> list[str]:
    """Every metric exists; every service="x" names a service that exports the metrics next to it; `svc_name`:
    the expression belongs to that service's dashboard, so it may only use what that service exports."""
    problems, names = [], promql_metrics(expr)
    if not names:
        problems.append(f"{where}: no metric in {expr!r}")
    for name in sorted(names - catalogue()):
        problems.append(f"{where}: metric {name} exists in no metrics module ({expr!r})")
    services = labels_of_service()
    for label in promql_service_labels(expr):
        if label not in services:
            problems.append(f"{where}: service=\"{label}\" is no service's label ({sorted(services)})")
            continue
        for name in sorted((names & catalogue()) - emitted(services[label])):
            problems.append(f"{where}: service {label!r} does not export {name}")
    if svc_name is not None:
        for name in sorted((names & catalogue()) - emitted(svc_name)):
            problems.append(f"{where}: {svc_name} does not export {name}")
    return problems


# -- YAML ------------------------------------------------------------------------------------------------------
def load_all(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def yaml_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and "kafka" not in p.relative_to(REPO).parts[:2])


def kustomize_binary() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@cache
def render(directory: str) -> tuple[dict[str, Any], ...]:
    """kustomize build of k8s/<directory> (needs kubectl or kustomize)."""
    tool = kustomize_binary()
    assert tool is not None
    out = subprocess.run([*tool, str(K8S / directory)], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"kustomize build k8s/{directory} failed:\n{out.stderr}")
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def base_without_kustomize() -> tuple[dict[str, Any], ...]:
    """k8s/base's resources as written plus its generated ConfigMaps (no name hashes): the fallback without a
    kustomize binary."""
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        docs += load_all(K8S / "base" / resource)
    for gen in kustomization.get("configMapGenerator", []):
        data = {}
        for spec in gen.get("files", []):
            key, _, rel = spec.rpartition("=")
            data[key or Path(rel).name] = (K8S / "base" / rel).read_text()
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data})
    for rule in kustomization.get("labels", []):  # the labels transformer (selectors are left alone)
        for doc in docs:
            doc["metadata"].setdefault("labels", {}).update(rule["pairs"])
            template = doc.get("spec", {}).get("template")
            if rule.get("includeTemplates") and template:
                template.setdefault("metadata", {}).setdefault("labels", {}).update(rule["pairs"])
    return tuple(docs)


def by_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


# -- Kubernetes workloads --------------------------------------------------------------------------------------
_QUANTITY = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(value: str | int | float) -> float:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    assert m and m.group(2) in _QUANTITY, f"not a quantity: {value!r}"
    return float(m.group(1)) * _QUANTITY[m.group(2)]


def container_env(container: dict[str, Any], configmaps: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Name -> literal value (None when it comes from a Secret or the downward API), and problems."""
    env: dict[str, Any] = {}
    problems = []
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef", {}).get("name")
        if ref is None:
            problems.append(f"envFrom {source}: only configMapRef is used here")
        elif ref not in configmaps:
            problems.append(f"envFrom: ConfigMap {ref} does not exist")
        else:
            env.update(configmaps[ref].get("data", {}))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            env[var["name"]] = None
            secret = var.get("valueFrom", {}).get("secretKeyRef")
            if secret and (secret["name"] != SECRET_NAME or secret["key"] not in SECRET_KEYS):
                problems.append(f"{var['name']}: secretKeyRef {secret['name']}/{secret['key']} is not a documented "
                                f"key of {SECRET_NAME} ({sorted(SECRET_KEYS)})")
    return env, problems


def check_env(svc: Service, env: dict[str, Any], allowed_extra: frozenset[str] = frozenset()) -> list[str]:
    """Every variable is a setting of the service (or read by its code, or named by its routes file), and the
    literal values validate against the settings classes."""
    problems = []
    known = setting_names(svc)
    direct = direct_env(svc) | allowed_extra
    values: dict[type, dict[str, Any]] = {}
    for name, value in env.items():
        if name.startswith("KAFKA_CONFIG__"):  # any librdkafka property passes through (KafkaSettings.config)
            continue
        if name in known:
            cls, fname = known[name]
            if value is not None:
                values.setdefault(cls, {})[fname] = value
        elif name not in direct:
            hint = " (a setting of another service)" if name.startswith(ALL_PREFIXES) else ""
            problems.append(f"{svc.name}: {name} is no setting of {svc.settings_class} or the shared settings, and "
                            f"its code does not read it{hint}")
    from pydantic import ValidationError

    for cls, kwargs in values.items():
        try:
            cls(**kwargs)
        except ValidationError as exc:
            problems.append(f"{svc.name}: {cls.__name__} rejects {kwargs}: {exc.errors()[0]['msg']}")
    port = env.get("CXPULSE_HTTP_PORT")
    if port is not None and int(port) != http_port():
        problems.append(f"{svc.name}: CXPULSE_HTTP_PORT={port} but the manifests and images use {http_port()}")
    return problems


def _probe_port(probe: dict[str, Any], ports: dict[str, int]) -> int | None:
    port = probe.get("httpGet", {}).get("port")
    return ports.get(port) if isinstance(port, str) else port


def image_repository(image: str) -> str:
    image = image.split("@")[0]
    last = image.rsplit("/", 1)
    if ":" in last[-1]:
        image = image.rsplit(":", 1)[0]
    return image


def check_workload(svc: Service, workload: dict[str, Any], docs: tuple[dict[str, Any], ...]) -> list[str]:
    """One service's Deployment/StatefulSet against the service."""
    where = f"{workload.get('kind')}/{workload['metadata']['name']}"
    problems: list[str] = []
    if workload.get("kind") != svc.workload_kind:
        problems.append(f"{where}: {svc.name} must be a {svc.workload_kind}")
    pod = workload["spec"]["template"]["spec"]
    containers = pod.get("containers", [])
    if [c.get("name") for c in containers] != [svc.name]:
        return [*problems, f"{where}: expected exactly one container named {svc.name}"]
    c = containers[0]
    port = http_port()
    if not image_repository(c.get("image", "")).endswith(f"cxpulse/{svc.name}"):
        problems.append(f"{where}: image {c.get('image')!r} is not cxpulse/{svc.name} (services/{svc.name}/Dockerfile)")
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    for name, listens in service_ports(svc).items():
        if ports.get(name) != listens:
            problems.append(f"{where}: containerPort {name!r} is {ports.get(name)}, the service listens on {listens}")
    for kind, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        probe = c.get(kind)
        if probe is None:
            if kind != "startupProbe":
                problems.append(f"{where}: no {kind}")
            continue
        if probe.get("httpGet", {}).get("path") != path:
            problems.append(f"{where}: {kind} path {probe.get('httpGet', {}).get('path')!r} is not {path}")
        if _probe_port(probe, ports) != port:
            problems.append(f"{where}: {kind} port {probe.get('httpGet', {}).get('port')!r} is not {port}")
    # Settings.
    configmaps = by_kind(docs, "ConfigMap")
    env, env_problems = container_env(c, configmaps)
    problems += [f"{where}: {p}" for p in env_problems]
    routes_vars: frozenset[str] = frozenset()
    if svc.name == "notification":
        routes_vars = frozenset(notification_route_vars(pod, c, env, configmaps))
        missing = routes_vars - set(env)
        if missing:
            problems.append(f"{where}: the routes file names {sorted(missing)}, which the container does not set")
    problems += [f"{where}: {p}" for p in check_env(svc, env, routes_vars)]
    problems += check_credentials(svc, env, where)
    if svc.single_writer and workload["spec"].get("replicas", 1) != 1:
        problems.append(f"{where}: {svc.name} runs exactly one replica (its single writer), not "
                        f"{workload['spec'].get('replicas')}")
    instance = next((v for v in c.get("env", []) if v["name"] == "CXPULSE_INSTANCE_ID"), None)
    if svc.workload_kind == "StatefulSet" and instance is not None and \
            instance.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
        problems.append(f"{where}: CXPULSE_INSTANCE_ID must be the pod name (stable transactional id)")
    # Files the settings point at exist in a mounted volume.
    problems += [f"{where}: {p}" for p in check_mounted_files(pod, c, env, configmaps)]
    # Security and resources.
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    if not psc.get("runAsNonRoot") or psc.get("runAsUser") != IMAGE_UID:
        problems.append(f"{where}: pod securityContext must set runAsNonRoot and runAsUser {IMAGE_UID}")
    if csc.get("allowPrivilegeEscalation") is not False or "ALL" not in csc.get("capabilities", {}).get("drop", []):
        problems.append(f"{where}: container must set allowPrivilegeEscalation: false and drop ALL capabilities")
    if csc.get("readOnlyRootFilesystem") and "/tmp" not in {m["mountPath"] for m in c.get("volumeMounts", [])}:
        problems.append(f"{where}: read-only root filesystem without a writable /tmp")
    res = c.get("resources", {})
    for kind in ("cpu", "memory"):
        req, lim = res.get("requests", {}).get(kind), res.get("limits", {}).get(kind)
        if req is None or lim is None:
            problems.append(f"{where}: resources.requests/limits.{kind} must both be set")
        elif quantity(req) > quantity(lim):
            problems.append(f"{where}: {kind} request {req} above its limit {lim}")
    if svc.name == "sentiment" and quantity(res.get("limits", {}).get("memory", 0)) < 512 * 2**20:
        problems.append(f"{where}: the sentiment model needs a memory limit of at least 512Mi")
    return problems


def _mounts(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """mountPath -> volume."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    return {m["mountPath"].rstrip("/"): volumes.get(m["name"], {"missing": m["name"]})
            for m in container.get("volumeMounts", [])}


def check_mounted_files(pod: dict[str, Any], container: dict[str, Any], env: dict[str, Any],
                        configmaps: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    mounts = _mounts(pod, container)
    for path, volume in mounts.items():
        if "missing" in volume:
            problems.append(f"volumeMount {path}: no volume named {volume['missing']}")
        elif "configMap" in volume and volume["configMap"]["name"] not in configmaps:
            problems.append(f"volume {volume['name']}: ConfigMap {volume['configMap']['name']} does not exist")
    for name, value in env.items():
        if not (isinstance(value, str) and value.startswith("/etc/")):
            continue
        directory, _, key = value.rpartition("/")
        volume = mounts.get(directory)
        if volume is None:
            problems.append(f"{name}={value}: nothing is mounted at {directory}")
        elif "configMap" in volume and key not in configmaps.get(volume["configMap"]["name"], {}).get("data", {}):
            problems.append(f"{name}={value}: ConfigMap {volume['configMap']['name']} has no key {key}")
    return problems


def notification_route_vars(pod: dict[str, Any], container: dict[str, Any], env: dict[str, Any],
                            configmaps: dict[str, dict[str, Any]]) -> set[str]:
    """Variables named (url_env / secret_env) by the routes file the notification container reads."""
    path = env.get("NOTIFICATION_ROUTES_FILE")
    if not path:
        return set()
    directory, _, key = str(path).rpartition("/")
    volume = _mounts(pod, container).get(directory, {})
    text = configmaps.get(volume.get("configMap", {}).get("name", ""), {}).get("data", {}).get(key)
    return routes_env_vars(text) if text else set()


def routes_env_vars(text: str) -> set[str]:
    spec = yaml.safe_load(text) or {}
    return {r[k] for r in (spec.get("recipients") or {}).values() for k in ("url_env", "secret_env") if r.get(k)}


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def check_cluster(docs: tuple[dict[str, Any], ...], where: str) -> list[str]:
    """Everything around the workloads: one workload per service, Services, PDBs, HPAs, ServiceMonitor, Job."""
    problems = []
    workloads = {d["metadata"]["name"]: d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")
                 and d["metadata"]["name"] != REGISTRY_WORKLOAD}
    if set(workloads) != set(SERVICES):
        problems.append(f"{where}: workloads {sorted(workloads)} are not the services {sorted(SERVICES)}")
    problems += check_registry(docs, where)
    for name, workload in workloads.items():
        if name in SERVICES:
            problems += [f"{where}: {p}" for p in check_workload(SERVICES[name], workload, docs)]
    services = by_kind(docs, "Service")
    for name, workload in workloads.items():
        labels = workload["spec"]["template"]["metadata"].get("labels", {})
        if not labels_match(workload["spec"]["selector"]["matchLabels"], labels):
            problems.append(f"{where}: {name}: selector does not match its pod labels")
        svc = services.get(name)
        if svc is None:
            problems.append(f"{where}: no Service {name}")
        else:
            if not labels_match(svc["spec"]["selector"], labels):
                problems.append(f"{where}: Service {name} does not select the {name} pods")
            ports = {p.get("name"): p for p in svc["spec"]["ports"]}
            wanted = service_ports(SERVICES[name]) if name in SERVICES else {"http": http_port()}
            for port_name, port in wanted.items():
                if port_name not in ports or ports[port_name].get("targetPort") not in (port_name, port):
                    problems.append(f"{where}: Service {name} has no port {port_name!r} to the container's "
                                    f"{port_name} port")
        if workload.get("kind") == "StatefulSet" and workload["spec"].get("serviceName") not in services:
            problems.append(f"{where}: StatefulSet {name}: serviceName is not a Service")
        if not any(labels_match(p["spec"]["selector"]["matchLabels"], labels)
                   for p in by_kind(docs, "PodDisruptionBudget").values()):
            problems.append(f"{where}: no PodDisruptionBudget covers {name}")
    # HPAs: target exists; external metrics are exported by the service they select.
    scaled = set()
    for name, hpa in by_kind(docs, "HorizontalPodAutoscaler").items():
        ref = hpa["spec"]["scaleTargetRef"]
        target = workloads.get(ref["name"])
        if target is None or target["kind"] != ref["kind"]:
            problems.append(f"{where}: HPA {name} scales {ref['kind']}/{ref['name']}, which does not exist")
            continue
        scaled.add(ref["name"])
        if hpa["spec"].get("minReplicas", 1) > hpa["spec"]["maxReplicas"]:
            problems.append(f"{where}: HPA {name}: minReplicas above maxReplicas")
        for metric in hpa["spec"].get("metrics", []):
            if metric["type"] == "External":
                mname = metric["external"]["metric"]["name"]
                label = metric["external"]["metric"].get("selector", {}).get("matchLabels", {}).get("service")
                owner = labels_of_service().get(label or "")
                if mname not in catalogue():
                    problems.append(f"{where}: HPA {name}: external metric {mname} exists in no metrics module")
                elif owner != ref["name"]:
                    problems.append(f"{where}: HPA {name}: selector service={label!r} is not {ref['name']}'s label")
                elif mname not in emitted(owner):
                    problems.append(f"{where}: HPA {name}: {owner} does not export {mname}")
    single = {n for n in workloads if n in SERVICES and SERVICES[n].single_writer}
    if scaled & single:
        problems.append(f"{where}: HPA on {sorted(scaled & single)}, which must run exactly one replica")
    if scaled | single != set(workloads):
        problems.append(f"{where}: no HPA for {sorted(set(workloads) - scaled - single)}")
    # ServiceMonitor: selects every service's Service, on a port it has.
    monitors = by_kind(docs, "ServiceMonitor")
    for name in workloads:
        svc = services.get(name)
        hits = [m for m in monitors.values() if svc and labels_match(m["spec"]["selector"]["matchLabels"],
                                                                     svc["metadata"].get("labels", {}))]
        if not hits:
            problems.append(f"{where}: no ServiceMonitor selects Service {name}")
        for monitor in hits:
            for endpoint in monitor["spec"]["endpoints"]:
                if endpoint.get("port") not in {p.get("name") for p in svc["spec"]["ports"]}:
                    problems.append(f"{where}: ServiceMonitor {monitor['metadata']['name']}: Service {name} has no "
                                    f"port {endpoint.get('port')!r}")
                if endpoint.get("path", "/metrics") != "/metrics" or not endpoint.get("honorLabels"):
                    problems.append(f"{where}: ServiceMonitor endpoints must scrape /metrics with honorLabels (the "
                                    f"metrics' own `service` label)")
    # The topics Job: core image, `cxpulse topics create`.
    jobs = [j for j in by_kind(docs, "Job").values()]
    topic_jobs = [j for j in jobs if image_repository(j["spec"]["template"]["spec"]["containers"][0]["image"])
                  .endswith("cxpulse/core") and j["metadata"]["name"] != SCHEMAS_JOB]
    if len(topic_jobs) != 1:
        problems.append(f"{where}: expected one Job running the cxpulse/core image (topic creation)")
    for job in topic_jobs:
        c = job["spec"]["template"]["spec"]["containers"][0]
        if c.get("args", [])[:2] != ["topics", "create"] or "command" in c:
            problems.append(f"{where}: Job {job['metadata']['name']} must run `cxpulse topics create` (args only)")
        env, env_problems = container_env(c, by_kind(docs, "ConfigMap"))
        problems += [f"{where}: Job: {p}" for p in env_problems]
        core_names = {n for s in SERVICES.values() for n in setting_names(s)
                      if n.startswith(("KAFKA_", "SCHEMA_REGISTRY_", "CXPULSE_"))}
        problems += [f"{where}: Job: {n} is no shared setting" for n in env if n not in core_names]
    return problems


def registry_version() -> str:
    """The Apicurio Registry version pinned in deploy/registry/pom.xml (the local one); deployments use the same."""
    text = (DEPLOY / "registry" / "pom.xml").read_text()
    return re.search(r"<apicurio.version>(.+?)</apicurio.version>", text).group(1)


def check_registry(docs: tuple[dict[str, Any], ...], where: str) -> list[str]:
    """A Schema Registry in the cluster, the services pointed at it, and the Job that registers schemas/ first."""
    problems = []
    url = by_kind(docs, "ConfigMap").get("cxpulse-common", {}).get("data", {}).get("SCHEMA_REGISTRY_URL", "")
    job = by_kind(docs, "Job").get(SCHEMAS_JOB)
    if job is None or job["spec"]["template"]["spec"]["containers"][0].get("args", [])[:2] != ["schemas", "register"]:
        problems.append(f"{where}: no Job {SCHEMAS_JOB} running `cxpulse schemas register`")
    registry = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Deployment"}.get(REGISTRY_WORKLOAD)
    if url.startswith("https://") and registry is None:
        return problems  # an external registry over TLS (prod)
    if registry is None:
        return [*problems, f"{where}: no Deployment {REGISTRY_WORKLOAD} (nor an external https SCHEMA_REGISTRY_URL)"]
    image = registry["spec"]["template"]["spec"]["containers"][0]["image"]
    if image != f"apicurio/apicurio-registry:{registry_version()}":
        problems.append(f"{where}: {REGISTRY_WORKLOAD} runs {image}, not the version of deploy/registry/pom.xml")
    service = by_kind(docs, "Service").get(REGISTRY_WORKLOAD)
    if service is None or not labels_match(service["spec"]["selector"],
                                           registry["spec"]["template"]["metadata"].get("labels", {})):
        problems.append(f"{where}: no Service {REGISTRY_WORKLOAD} selecting the registry pods")
    if not url.startswith(f"http://{REGISTRY_WORKLOAD}:"):
        problems.append(f"{where}: cxpulse-common's SCHEMA_REGISTRY_URL {url!r} is not the {REGISTRY_WORKLOAD} "
                        "Service")
    return problems


# -- compose ---------------------------------------------------------------------------------------------------
def check_compose(compose: dict[str, Any]) -> list[str]:
    problems = []
    services = compose.get("services", {})
    port = http_port()
    for name in ("kafka", "topics", "registry", "schemas", *SERVICES, "prometheus", "grafana"):
        if name not in services:
            problems.append(f"compose: no service {name}")
    kafka = services.get("kafka", {})
    if not str(kafka.get("image", "")).startswith("apache/kafka:"):
        problems.append("compose: kafka must use the official apache/kafka image")
    if str(kafka.get("environment", {}).get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).lower() != "false":
        problems.append("compose: kafka must have auto topic creation off (topics come from schemas/topics.yaml)")
    topics = services.get("topics", {})
    if topics.get("build", {}).get("dockerfile") != "services/core/Dockerfile" or \
            topics.get("command", ["topics", "create"])[:2] != ["topics", "create"]:
        problems.append("compose: topics must build services/core/Dockerfile and run `topics create`")
    if services.get("registry", {}).get("image") != f"apicurio/apicurio-registry:{registry_version()}":
        problems.append("compose: registry must run the Apicurio version of deploy/registry/pom.xml")
    if services.get("schemas", {}).get("command", [])[:2] != ["schemas", "register"]:
        problems.append("compose: schemas must run `cxpulse schemas register`")
    for name, svc in SERVICES.items():
        s = services.get(name)
        if s is None:
            continue
        where = f"compose service {name}"
        if not str((s.get("environment") or {}).get("SCHEMA_REGISTRY_URL", "")).startswith("http://registry:"):
            problems.append(f"{where}: SCHEMA_REGISTRY_URL must point at the registry service")
        if s.get("depends_on", {}).get("schemas", {}).get("condition") != "service_completed_successfully":
            problems.append(f"{where}: must start after the schemas are registered")
        build = s.get("build", {})
        if (DEPLOY / build.get("context", ".")).resolve() != REPO or build.get("dockerfile") != \
                f"services/{name}/Dockerfile":
            problems.append(f"{where}: must build services/{name}/Dockerfile from the repository root")
        if not image_repository(s.get("image", "")).endswith(f"cxpulse/{name}"):
            problems.append(f"{where}: image {s.get('image')!r} is not cxpulse/{name}")
        container_ports = {int(str(p).split(":")[-1].split("/")[0]) for p in s.get("ports", [])}
        if container_ports != set(service_ports(svc).values()):
            problems.append(f"{where}: publishes container ports {sorted(container_ports)}, the service listens on "
                            f"{sorted(service_ports(svc).values())}")
        test = " ".join(map(str, s.get("healthcheck", {}).get("test", [])))
        if not re.search(rf"127\.0\.0\.1:{port}/(readyz|healthz)\b|localhost:{port}/(readyz|healthz)\b", test):
            problems.append(f"{where}: healthcheck must hit /readyz or /healthz on port {port}: {test!r}")
        deps = s.get("depends_on", {})
        if deps.get("kafka", {}).get("condition") != "service_healthy" or \
                deps.get("topics", {}).get("condition") != "service_completed_successfully":
            problems.append(f"{where}: must depend on kafka (healthy) and topics (completed)")
        env = {k: (None if v is None else str(v)) for k, v in (s.get("environment") or {}).items()}
        extra: frozenset[str] = frozenset()
        if name == "notification":
            routes = _compose_mounted(s, env.get("NOTIFICATION_ROUTES_FILE"))
            extra = frozenset(routes_env_vars(routes.read_text())) if routes else frozenset()
            if routes is None:
                problems.append(f"{where}: NOTIFICATION_ROUTES_FILE is not a mounted file")
            missing = extra - set(env)
            if missing:
                problems.append(f"{where}: the routes file names {sorted(missing)}, which are not set")
        if name == "routing" and _compose_mounted(s, env.get("ROUTING_RULES_PATH")) is None:
            problems.append(f"{where}: ROUTING_RULES_PATH is not a mounted file")
        problems += [f"{where}: {p}" for p in check_env(svc, env, extra)]
        problems += check_credentials(svc, env, where, literal_ok=True)
    for name, s in services.items():
        for volume in s.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")) and not (DEPLOY / source).exists():
                problems.append(f"compose service {name}: mounts {source}, which does not exist")
    return problems


def _compose_mounted(service: dict[str, Any], target: str | None) -> Path | None:
    for volume in service.get("volumes", []):
        parts = str(volume).split(":")
        if target and len(parts) >= 2 and parts[1] == target and parts[0].startswith("."):
            return DEPLOY / parts[0]
    return None


# -- Prometheus ------------------------------------------------------------------------------------------------
def prometheus_rule_document() -> str:
    def block(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, block)
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
    doc = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "cxpulse"},
           "spec": {"groups": groups}}
    head = ("# The alert rules of deploy/prometheus/alerts.yml for the Prometheus Operator: spec.groups is a copy of "
            "that\n# file's groups (tests/ops/test_manifests.py fails when they differ). Edit alerts.yml, then "
            "regenerate:\n#   python tests/ops/ops_manifests.py prometheusrule > k8s/base/prometheusrule.yaml\n")
    return head + yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=120, allow_unicode=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["prometheusrule"]:
        sys.stdout.write(prometheus_rule_document())
    else:
        sys.exit("usage: python tests/ops/ops_manifests.py prometheusrule > k8s/base/prometheusrule.yaml")
