"""Checks a rendered overlay for what a schema cannot say.

Usage: check_rendered.py RENDERED.yaml  (run by deploy/k8s/validate.sh with
the build/venv Python, whose PyYAML comes with kubernetes-validate).

- every container of every workload has CPU and memory requests and limits;
- the gateway and each service have a Deployment, a HorizontalPodAutoscaler
  and a PodDisruptionBudget, and no Deployment sets replicas (the HPA owns
  the count);
- the four services' Services are headless, the gateway's is not;
- a default-deny NetworkPolicy covers ingress and egress of every pod, and
  each service's database policy names only its own database;
- the shared ConfigMap sets MAX_CONNECTION_AGE_SECS.
"""

import sys

import yaml

SERVICES = ["identity", "billing", "content", "progress"]
SERVERS = ["gateway", *SERVICES]
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    errors: list[str] = []

    for kind in WORKLOADS:
        for name, doc in by_kind.get(kind, {}).items():
            pod = doc["spec"]["template"]["spec"]
            for c in pod.get("initContainers", []) + pod["containers"]:
                res = c.get("resources", {})
                for part in ("requests", "limits"):
                    for what in ("cpu", "memory"):
                        if what not in res.get(part, {}):
                            errors.append(f"{kind}/{name} container {c['name']}: no {part}.{what}")

    deployments = by_kind.get("Deployment", {})
    for name in SERVERS:
        if name not in deployments:
            errors.append(f"no Deployment {name}")
        elif "replicas" in deployments[name]["spec"]:
            errors.append(f"Deployment {name} sets replicas (the HorizontalPodAutoscaler owns them)")
        hpa = by_kind.get("HorizontalPodAutoscaler", {}).get(name)
        if not hpa or hpa["spec"]["scaleTargetRef"]["name"] != name:
            errors.append(f"no HorizontalPodAutoscaler for {name}")
        pdb = by_kind.get("PodDisruptionBudget", {}).get(name)
        if not pdb or pdb["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/name") != name:
            errors.append(f"no PodDisruptionBudget for {name}")

    services = by_kind.get("Service", {})
    for name in SERVICES:
        if services.get(name, {}).get("spec", {}).get("clusterIP") != "None":
            errors.append(f"Service {name} is not headless (clusterIP: None)")
    if services.get("gateway", {}).get("spec", {}).get("clusterIP") == "None":
        errors.append("Service gateway is headless: the ingress needs its ClusterIP")

    policies = by_kind.get("NetworkPolicy", {})
    deny = [
        p
        for p in policies.values()
        if p["spec"]["podSelector"] == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not deny:
        errors.append("no default-deny NetworkPolicy (all pods, Ingress and Egress, no rules)")
    for name in SERVICES:
        policy = policies.get(f"database-{name}")
        if not policy:
            errors.append(f"no NetworkPolicy database-{name}")
            continue
        if policy["spec"]["podSelector"] != {"matchLabels": {"jazzmaster.pro/db-client": name}}:
            errors.append(f"NetworkPolicy database-{name} selects other pods than {name}'s")
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                server = labels.get("jazzmaster.pro/db-server")
                if "ipBlock" not in peer and server != name:
                    errors.append(f"NetworkPolicy database-{name} lets {name} reach {peer}")

    shared = [cm for n, cm in by_kind.get("ConfigMap", {}).items() if n.startswith("jazzmaster-config")]
    if not shared or "MAX_CONNECTION_AGE_SECS" not in shared[0].get("data", {}):
        errors.append("ConfigMap jazzmaster-config lacks MAX_CONNECTION_AGE_SECS")

    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
