#!/usr/bin/env bash
# CI for a Parley assistant repository: validate, train, test, cross-validate, compare with the
# production model, audit, publish. Runs anywhere bash and Python run (GitHub Actions uses it
# through deploy/ci/github-actions.yml; GitLab, Jenkins or a laptop can call it directly).
#
# Settings (environment):
#   PRODUCTION_FIGURES   path or http(s) URL of the production model's figures.json (optional)
#   REGRESSION_TOLERANCE how far a figure may fall below production's (default 0.01)
#   CV_FOLDS             NLU cross-validation folds (default 5)
#   PUBLISH=1            publish the model and its figures (set on the main branch only)
#   MODEL_REGISTRY_URL   where to publish: an http(s) URL accepting PUT (object store, artifact
#                        registry), e.g. https://models.example.com/assistant
#   MODEL_REGISTRY_TOKEN bearer token for it
#   PIP_AUDIT=0          skip the dependency scan (it needs the advisory database online)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
figures_tool="${here}/figures.py"
results="${RESULTS_DIR:-results}"
mkdir -p "${results}"

step() { printf '\n=== %s\n' "$*"; }
auth=()
if [ -n "${MODEL_REGISTRY_TOKEN:-}" ]; then
  auth=(-H "Authorization: Bearer ${MODEL_REGISTRY_TOKEN}")
fi

step "validate the project"
parley data validate

step "train"
parley train --out models
model="$(python -c 'import pathlib,sys; m=sorted(pathlib.Path("models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime); print(m[-1] if m else sys.exit("no model in models/"))')"

step "conversation tests (tests/*.yml)"
parley test --model "${model}" --out "${results}/stories"

step "NLU cross-validation (${CV_FOLDS:-5} folds)"
parley test nlu --cross-validation --folds "${CV_FOLDS:-5}" --nlu data --out "${results}/cross-validation"

step "compare with the production model"
python "${figures_tool}" summarize "${results}" > "${results}/figures.json"
production="${results}/production-figures.json"
case "${PRODUCTION_FIGURES:-}" in
  "") ;;
  http://*|https://*)
    curl --fail --silent --show-error --location "${auth[@]}" --output "${production}" "${PRODUCTION_FIGURES}" || echo "no production figures yet"
    ;;
  *) cp "${PRODUCTION_FIGURES}" "${production}" ;;
esac
python "${figures_tool}" compare "${results}/figures.json" "${production}" \
  --tolerance "${REGRESSION_TOLERANCE:-0.01}"

step "production checks (secrets, TLS, auth, logging)"
parley doctor --production

step "dependency vulnerability scan"
if [ "${PIP_AUDIT:-1}" = "0" ]; then
  echo "skipped (PIP_AUDIT=0)"
elif [ -f requirements.txt ]; then
  pip-audit --requirement requirements.txt
else
  pip-audit
fi

if [ "${PUBLISH:-0}" = "1" ]; then
  step "publish ${model}"
  : "${MODEL_REGISTRY_URL:?set MODEL_REGISTRY_URL to publish}"
  name="$(basename "${model}")"
  curl --fail --silent --show-error "${auth[@]}" --upload-file "${model}" "${MODEL_REGISTRY_URL}/models/${name}"
  curl --fail --silent --show-error "${auth[@]}" --upload-file "${results}/figures.json" \
    "${MODEL_REGISTRY_URL}/models/${name%.tar.gz}.figures.json"
  echo "published ${name}; promote it by pointing production at it (and its figures)"
fi
