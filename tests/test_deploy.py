"""Deployment files: parseable, and every RANKSTREAM_* variable they set is a real setting; alert rules and
the dashboard read only metrics the worker exports (those of docs/metrics.md's table, which
tests/integration/test_observability.py holds to a running worker's /metrics)."""

import json
import re
from pathlib import Path

import yaml

from tests.metrics_doc import documented_metrics, metric_names
from worker.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def documents() -> list[dict]:
    return [doc for path in sorted(DEPLOY.rglob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_every_rankstream_variable_names_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    names = set()
    for doc in documents():
        for key in {**doc.get("data", {}), **doc.get("stringData", {})}:
            names.add(key)
    for text in (DEPLOY / "compose.yaml", *DEPLOY.glob("Dockerfile.*")):
        names |= set(re.findall(r"RANKSTREAM_[A-Z0-9_]+", text.read_text()))
    rankstream = {n for n in names if n.startswith("RANKSTREAM_")}
    assert rankstream, "the manifests configure the worker through RANKSTREAM_* variables"
    assert {n.removeprefix("RANKSTREAM_") for n in rankstream} <= fields


def test_workers_probe_health_and_outlast_the_drain() -> None:
    deployments = [d for d in documents() if d.get("kind") == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {"rankstream-queries", "rankstream-postings"}
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert pod["terminationGracePeriodSeconds"] > Settings().shutdown_timeout_s


def test_images_carry_the_service_only() -> None:
    for dockerfile in DEPLOY.glob("Dockerfile.*"):
        text = dockerfile.read_text()
        assert "torch==2.13.0" in text
        for package in ("schemas", "compressor", "slm", "worker"):
            assert f"COPY {package} " in text
        assert "COPY cli" not in text, "the CLI, dev services and demo stay out of the image"
        assert "rm -rf slm/train slm/prune slm/data slm/eval" in text
        assert 'ENTRYPOINT ["rankstream-worker"]' in text


def test_alert_rules_cover_lag_dead_letters_latency_and_memory_with_exported_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    reads = {name: metric_names(rule["expr"]) for name, rule in alerts.items()}
    assert "rankstream_consumer_lag" in reads["RankstreamConsumerLag"]
    assert "rankstream_dead_letters_total" in reads["RankstreamDeadLetterRate"]
    assert "rankstream_end_to_end_latency_seconds" in reads["RankstreamLatencyP99"]
    assert "process_resident_memory_bytes" in reads["RankstreamMemory"]
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"], name
        assert reads[name] and reads[name] <= documented_metrics(), f"{name} reads {reads[name] - documented_metrics()}"
    components = {
        d["metadata"]["labels"]["app.kubernetes.io/component"] for d in documents() if d.get("kind") == "Deployment"
    }
    assert set(re.findall(r'component="(\w+)"', alerts["RankstreamMemory"]["expr"])) == components


def test_dashboard_reads_exported_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "rankstream.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert all(panel["targets"] for panel in dashboard["panels"])
    read = set().union(*(metric_names(expr) for expr in exprs))
    assert read <= documented_metrics(), f"not exported: {sorted(read - documented_metrics())}"
    assert {"rankstream_consumer_lag", "rankstream_end_to_end_latency_seconds", "process_resident_memory_bytes"} <= read


def test_the_postings_topic_is_created_compacted() -> None:
    topics = {d["metadata"]["name"]: d["spec"] for d in documents() if d.get("kind") == "KafkaTopic"}
    assert set(topics) == {"job-postings", "search-queries", "ranked-results", "rankstream-dlq"}
    assert {name for name, spec in topics.items() if spec["config"].get("cleanup.policy") == "compact"} == {
        "job-postings"
    }
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    command = " ".join(compose["services"]["topics"]["command"])
    assert re.search(r"--topic job-postings\s+--partitions \d+ --config cleanup.policy=compact", command)
