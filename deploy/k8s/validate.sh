#!/usr/bin/env bash
# Offline validation of deploy/k8s, without a cluster: renders the base and each overlay with
# kubectl's kustomize and checks every object against the Kubernetes API's schemas
# (kubernetes-validate --strict: an unknown field, a wrong type or a missing required field fails).
# Both tools come from the project's dev dependencies (pyproject.toml): from the repository root,
#   PATH=.venv/bin:$PATH deploy/k8s/validate.sh [K8S_DIR [TARGET...]]
# K8S_DIR is another copy of deploy/k8s to check (tests/contract/test_k8s_validate.py feeds it a
# broken one); TARGETs default to the base and both overlays. Exits non-zero when any target does
# not render or does not validate, naming it.
set -euo pipefail
root=${1:-$(dirname "$0")}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(base overlays/dev overlays/production)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
rendered=()
for target in "${targets[@]}"; do
  file="$out/${target//\//-}.yaml"
  if kubectl kustomize "$root/$target" >"$file"; then
    rendered+=("$file")
  else
    echo "FAILED: kubectl kustomize $target" >&2
    status=1
  fi
done
# One run for every rendered target: the schemas load once.
if [ "${#rendered[@]}" -gt 0 ] && ! kubernetes-validate --strict --quiet "${rendered[@]}" >&2; then
  echo "FAILED: kubernetes-validate --strict" >&2
  status=1
fi
if [ "$status" -eq 0 ]; then
  for file in "${rendered[@]}"; do
    echo "ok: $(basename "$file" .yaml) ($(grep -c '^kind:' "$file") objects)"
  done
fi
exit "$status"
