#!/usr/bin/env bash
# Roll a Helm release of agentry back to a recorded point: the release revision and the database
# migration it ran with. .github/workflows/deploy.yml runs it when a canary fails; it is the same
# command a person runs.
#
#   scripts/rollback.sh record <release> <namespace>
#       Print the rollback point of the release as it is now, as `revision=<n>` and
#       `migration=<name>` lines (empty migration: none applied). Changes nothing.
#
#   scripts/rollback.sh cli <release> <namespace> <agentry args…>
#       Run `agentry <args>` against the release's database as below (AGENTRY_CLI, else in the
#       cluster) and print its output, e.g. as rollback-drill.sh's --cli.
#
#   scripts/rollback.sh <release> <namespace> <revision> <migration>
#       1. helm rollback <release> <revision> --wait
#       2. when the database's current migration is not <migration>:
#          agentry migrate down --to <migration>   (<migration> empty, null or zero: --to zero)
#       Application first: the old version runs on the newer schema until step 2 (migrations are
#       additive, so it can); the schema goes back last. Exits 0 only when both are done.
#
# Environment:
#   AGENTRY_CLI      how to run `agentry` against the release's database, e.g. `pnpm -s agentry`
#                    with DATABASE_URL set. Default: in the cluster, as the migration hook runs it
#                    (the chart's migration Job rendered with the release's values and these args,
#                    the cli image of AGENTRY_CLI_TAG), which needs helm, kubectl and jq.
#   AGENTRY_CLI_TAG  image tag of that cli. Default: the release's canary.image.tag, else its
#                    image.tag, read before rolling back: the newest code, the one that knows how
#                    to undo the newest migrations.
#   CHART            the chart (default: helm/agentry of this checkout).
#   HELM_TIMEOUT     how long helm rollback and a cli Job may take (default: 10m).
#   DRY_RUN=1        print the commands that change something instead of running them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHART="${CHART:-${here}/../helm/agentry}"
HELM_TIMEOUT="${HELM_TIMEOUT:-10m}"
DRY_RUN="${DRY_RUN:-0}"

log() { printf '%s rollback: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
# Run a command that changes something, or print it under DRY_RUN=1.
run() {
  printf '+ %s\n' "$*" >&2
  [[ "$DRY_RUN" == 1 ]] || "$@"
}
seconds() { # 10m → 600
  local d="$1"
  case "$d" in
    *m) echo $((${d%m} * 60)) ;;
    *s) echo "${d%s}" ;;
    *) echo "$d" ;;
  esac
}

[[ $# -ge 1 ]] || usage
mode=rollback
if [[ "$1" == record ]]; then
  mode=record
  shift
  [[ $# -eq 2 ]] || usage
elif [[ "$1" == cli ]]; then
  mode=cli
  shift
  [[ $# -ge 3 ]] || usage
else
  # The migration is required, even when empty: a missing one must not mean "down to zero".
  [[ $# -eq 4 ]] || usage
fi
release="$1"
namespace="$2"
for tool in helm jq; do command -v "$tool" > /dev/null || die "$tool is required"; done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The release's values as they are now (before any rollback): the cli Job is rendered with them.
helm get values "$release" --namespace "$namespace" --output json > "$work/values.json" ||
  die "release $release not found in namespace $namespace"
cli_tag="${AGENTRY_CLI_TAG:-$(jq -r '.canary.image.tag // .image.tag // empty' "$work/values.json")}"

# `agentry <args>` in the cluster: the chart's migration Job with other args, as an ordinary Job.
cluster_agentry() {
  command -v kubectl > /dev/null || die "kubectl is required (or set AGENTRY_CLI)"
  [[ -n "$cli_tag" ]] || die "no image tag for the cli: set AGENTRY_CLI_TAG"
  local name args deadline state
  name="${release:0:30}-cli-$(date +%s)-${RANDOM}"
  args="$(printf '%s\n' "$@" | jq -R . | jq -sc .)" # a JSON array of the arguments
  helm template "$release" "$CHART" --namespace "$namespace" --values "$work/values.json" \
    --set-string "image.tag=${cli_tag}" --set-json "migrations.args=${args}" \
    --show-only templates/migration-job.yaml > "$work/job.yaml"
  # The hook as an ordinary Job of its own name (kubectl patch --local: no server round trip).
  kubectl patch --local --filename "$work/job.yaml" --type merge --output json --patch "$(
    jq -cn --arg name "$name" '{
      metadata: {name: $name, annotations: {"helm.sh/hook": null, "helm.sh/hook-weight": null,
        "helm.sh/hook-delete-policy": null}},
      spec: {backoffLimit: 0, ttlSecondsAfterFinished: 3600}}'
  )" > "$work/job.json"
  log "agentry $* (job $name, cli image tag $cli_tag)"
  kubectl create --namespace "$namespace" --filename "$work/job.json" > /dev/null
  deadline=$((SECONDS + $(seconds "$HELM_TIMEOUT")))
  while :; do
    state="$(kubectl get job "$name" --namespace "$namespace" --output json |
      jq -r '[.status.conditions[]? | select(.status == "True" and
        (.type == "Complete" or .type == "Failed")) | .type][0] // empty')" || state=''
    [[ -z "$state" ]] || break
    ((SECONDS < deadline)) || {
      state="still running after $HELM_TIMEOUT"
      break
    }
    sleep 2
  done
  kubectl logs "job/$name" --namespace "$namespace" || true
  [[ "$state" == Complete ]] || die "agentry $* did not complete ($state): see job $name"
  kubectl delete job "$name" --namespace "$namespace" --wait=false > /dev/null || true
}

agentry() {
  if [[ -n "${AGENTRY_CLI:-}" ]]; then
    # A command line, split on spaces on purpose (e.g. `pnpm -s agentry`).
    # shellcheck disable=SC2086
    $AGENTRY_CLI "$@"
  else
    cluster_agentry "$@"
  fi
}

# The database's current migration (empty: none applied), from `agentry migrate status --json`:
# {"current": "<name>" | null, …}. Other lines (`database: …`) are skipped.
current_migration() {
  agentry migrate status --json | grep '^{' | tail -n 1 |
    jq -er 'if has("current") then .current // "" else error("no current") end' ||
    die "could not read the current migration (agentry migrate status --json)"
}

if [[ "$mode" == cli ]]; then
  agentry "${@:3}"
  exit 0
fi

if [[ "$mode" == record ]]; then
  revision="$(helm history "$release" --namespace "$namespace" --max 50 --output json |
    jq -r '[.[] | select(.status == "deployed")] | last | .revision // empty')"
  [[ -n "$revision" ]] || die "release $release has no deployed revision to come back to"
  migration="$(current_migration)"
  log "rollback point of $release: revision $revision, migration ${migration:-<none>}"
  printf 'revision=%s\nmigration=%s\n' "$revision" "$migration"
  exit 0
fi

revision="$3"
migration="$4"
[[ "$revision" =~ ^[0-9]+$ ]] || die "revision must be a number, not '$revision'"
[[ "$migration" == null || "$migration" == zero ]] && migration=''

log "rolling $release ($namespace) back to revision $revision"
run helm rollback "$release" "$revision" --namespace "$namespace" --wait --timeout "$HELM_TIMEOUT"

current="$(current_migration)"
if [[ "$current" == "$migration" ]]; then
  log "database already at ${migration:-<none>}: nothing to migrate down"
else
  log "database at ${current:-<none>}: migrating down to ${migration:-zero}"
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '+ agentry migrate down --to %s\n' "${migration:-zero}" >&2
  else
    agentry migrate down --to "${migration:-zero}"
    current="$(current_migration)"
    [[ "$current" == "$migration" ]] ||
      die "database at ${current:-<none>} after migrating down, expected ${migration:-<none>}"
  fi
fi
if [[ "$DRY_RUN" == 1 ]]; then
  log "dry run: nothing was changed"
else
  log "rolled back: $release at revision $revision, database at ${migration:-<none>}"
fi
