#!/usr/bin/env bash
# Renders each overlay with `kubectl kustomize` into build/k8s/<overlay>.yaml
# and validates the result: kubernetes-validate (schema, strict) and
# check_rendered.py (what the schema cannot say: limits, autoscalers,
# headless peers, default deny). `make lint` runs it.
#
# The production overlay reads secrets.env, which is never committed, so
# both overlays are rendered from a copy of deploy/k8s in which the
# production secrets.env is secrets.env.example (a real secrets.env is not
# copied).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kubectl=${KUBECTL:-$root/build/bin/kubectl}
venv=${VENV:-$root/build/venv}
k8s_version=${K8S_VERSION:-1.30.0}
out=$root/build/k8s

rm -rf "$out"
mkdir -p "$out/tree"
tar -C "$root/deploy/k8s" --exclude=overlays/production/secrets.env -cf - base overlays | tar -C "$out/tree" -xf -
cp "$out/tree/overlays/production/secrets.env.example" "$out/tree/overlays/production/secrets.env"

for overlay in local production; do
  "$kubectl" kustomize "$out/tree/overlays/$overlay" >"$out/$overlay.yaml"
  "$venv/bin/kubernetes-validate" --quiet --strict -k "$k8s_version" "$out/$overlay.yaml"
  "$venv/bin/python" "$root/deploy/k8s/check_rendered.py" "$out/$overlay.yaml"
done
rm -rf "$out/tree"
