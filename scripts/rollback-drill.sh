#!/usr/bin/env bash
# Rollback drill: proves that a release of agentry can be rolled back, and logs the proof.
#
#   a. records the rollback point: Helm's deployed revision, the database's current migration and
#      its schema fingerprint;
#   b. applies a test change (a pod annotation, helm upgrade --reuse-values) and waits for it;
#   c. rolls it back (helm rollback <release> <revision> --wait);
#   d. verifies the rollback: the annotation is gone from every Deployment's pod template;
#   e. runs the migrations down one and up again to the recorded one, and verifies that the
#      current migration and the schema fingerprint are the recorded ones;
#   f. appends one JSON line to the drill log; exits 1 when any step failed.
#
# --skip-helm runs the database part only (no cluster needed). See --help, and
# docs/canary-analysis.md (Rollback drill) for running it against staging and the log format.
set -euo pipefail
shopt -s inherit_errexit

usage() {
  cat <<'EOF'
Usage: scripts/rollback-drill.sh --release NAME --namespace NS [options]
       scripts/rollback-drill.sh --skip-helm [options]

Rolls a release forward with a test change and back, and the database one migration down and
up again; checks that each came back to where it was; appends the result to the drill log.

Options:
  --release NAME       Helm release to drill (required unless --skip-helm)
  --namespace NS       its namespace (required unless --skip-helm)
  --skip-helm          database part only: no helm, no kubectl
  --cli "COMMAND"      how to run the agentry CLI (default: "pnpm -s agentry"; in a cluster,
                       e.g. "kubectl run drill-cli --rm -i --restart=Never --image=... --")
  --chart REF          chart to upgrade with: the one the release runs (default: helm/agentry)
  --helm-timeout DUR   how long helm waits for a rollout (default: 10m)
  --log FILE           drill log, one JSON line per drill (default: $AGENTRY_DRILL_LOG, else
                       rollback-drills.jsonl)
  -h, --help           this help

The CLI runs with this environment: DATABASE_URL, AGENTRY_DB_SCHEMA, ... select the database.
Exit codes: 0 every step passed; 1 a step failed (logged); 64 bad arguments; 69 a tool missing.
EOF
}

release=''
namespace=''
skip_helm=false
cli='pnpm -s agentry'
chart='helm/agentry'
helm_timeout='10m'
log="${AGENTRY_DRILL_LOG:-rollback-drills.jsonl}"

usage_error() {
  echo "rollback-drill: $1 (see --help)" >&2
  exit 64
}

while (($# > 0)); do
  case "$1" in
    --release | --namespace | --cli | --chart | --helm-timeout | --log)
      (($# >= 2)) || usage_error "$1 needs a value"
      case "$1" in
        --release) release=$2 ;;
        --namespace) namespace=$2 ;;
        --cli) cli=$2 ;;
        --chart) chart=$2 ;;
        --helm-timeout) helm_timeout=$2 ;;
        --log) log=$2 ;;
      esac
      shift 2
      ;;
    --skip-helm)
      skip_helm=true
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done

if [[ $skip_helm == false ]]; then
  [[ -n $release ]] || usage_error '--release is required (or --skip-helm)'
  [[ -n $namespace ]] || usage_error '--namespace is required (or --skip-helm)'
fi
[[ -n $cli ]] || usage_error '--cli must not be empty'

required=(jq date)
[[ $skip_helm == true ]] || required+=(helm kubectl)
for tool in "${required[@]}"; do
  command -v "$tool" >/dev/null || {
    echo "rollback-drill: $tool is required and not on PATH" >&2
    exit 69
  }
done

# ---------------------------------------------------------------------------------------------
# Steps. Each step is a function run by run_step: its stdout's last line is the step's detail
# (and its value: run_step leaves the whole stdout in step_out); anything else goes to stderr.

steps='[]'
failed=false
step_out=''
step_ok=false

now_ms() { date +%s%3N; }

last_line() { printf '%s\n' "$1" | sed '/^[[:space:]]*$/d' | tail -n 1 | cut -c 1-300; }

record_step() { # NAME OK MS DETAIL
  steps=$(jq -c --arg name "$1" --argjson ok "$2" --argjson ms "$3" --arg detail "$4" \
    '. + [{name: $name, ok: $ok, ms: $ms, detail: $detail}]' <<<"$steps")
  local status='ok'
  if [[ $2 != true ]]; then
    failed=true
    status='FAILED'
  fi
  printf 'rollback-drill: %-18s %-6s %6s ms  %s\n' "$1" "$status" "$3" "$4" >&2
}

# NAME FUNCTION [ARGS...]: sets step_ok. Never call it from `if`, `&&` or `||`: bash would run the
# function with errexit off, and a failing command inside would not fail the step.
run_step() {
  local name=$1 started errors rc ms why
  shift
  errors=$(mktemp)
  started=$(now_ms)
  set +e
  step_out=$(
    set -e
    "$@" 2>"$errors"
  )
  rc=$?
  set -e
  ms=$(($(now_ms) - started))
  step_ok=false
  if ((rc == 0)); then
    step_ok=true
    record_step "$name" true "$ms" "$(last_line "$step_out")"
  else
    why=$(last_line "$(cat "$errors")")
    [[ -n $why ]] || why=$(last_line "$step_out")
    sed 's/^/    | /' "$errors" >&2
    record_step "$name" false "$ms" "exit $rc: $why"
  fi
  rm -f "$errors"
}

agentry() { # the configured CLI with these arguments
  bash -c "$cli"' "$@"' agentry-cli "$@"
}

deployed_revision() { # "<revision> <chart>" of the release's deployed revision
  helm history "$release" --namespace "$namespace" --max 50 --output json |
    jq -er 'map(select(.status == "deployed")) | last | select(. != null) | "\(.revision) \(.chart)"'
}

drill_annotations() { # "<deployment>=<annotation value>" per Deployment of the release
  kubectl get deployments --namespace "$namespace" -l "app.kubernetes.io/instance=$release" \
    -o jsonpath='{range .items[*]}{.metadata.name}{"="}{.spec.template.metadata.annotations.agentry\.dev/drill}{"\n"}{end}'
}

database_point() { # "<current migration|null> <fingerprint>"
  local status fingerprint current
  status=$(agentry migrate status --json)
  current=$(jq -er 'if .current == null then "null" else .current end' <<<"$status")
  fingerprint=$(agentry migrate fingerprint)
  if [[ ! $fingerprint =~ ^sha256:[0-9a-f]{64}$ ]]; then
    echo "migrate fingerprint printed $(last_line "$fingerprint"), not sha256:<hex>" >&2
    return 1
  fi
  echo "$current $fingerprint"
}

record_helm() {
  local point
  point=$(deployed_revision)
  echo "revision ${point%% *} (${point#* })"
}

apply_change() { # STAMP
  local deployed wanted annotations
  deployed=$(deployed_revision)
  deployed=${deployed#* }
  # Upgrading with another chart than the release runs would deploy more than an annotation.
  wanted=$(helm show chart "$chart" | awk '/^name:/ { n = $2 } /^version:/ { v = $2 } END { print n "-" v }')
  if [[ $wanted != "$deployed" ]]; then
    echo "--chart $chart is $wanted but the release runs $deployed: pass the deployed chart" >&2
    return 1
  fi
  helm upgrade "$release" "$chart" --namespace "$namespace" --reuse-values \
    --set-string "podAnnotations.agentry\\.dev/drill=$1" \
    --wait --timeout "$helm_timeout" >&2
  annotations=$(drill_annotations)
  if [[ -z $annotations ]] || grep -qv "=$1\$" <<<"$annotations"; then
    echo "the test change did not reach every Deployment: $(tr '\n' ' ' <<<"$annotations")" >&2
    return 1
  fi
  echo "revision $(deployed_revision | cut -d ' ' -f 1): agentry.dev/drill=$1 on $(wc -l <<<"$annotations") Deployments"
}

rollback_helm() { # REVISION
  helm rollback "$release" "$1" --namespace "$namespace" --wait --timeout "$helm_timeout" >&2
  echo "rolled back to revision $1; now revision $(deployed_revision | cut -d ' ' -f 1)"
}

verify_rollback() {
  local annotations left
  annotations=$(drill_annotations)
  if [[ -z $annotations ]]; then
    echo "no Deployment of release $release in namespace $namespace" >&2
    return 1
  fi
  left=$(grep -v '=$' <<<"$annotations" || true)
  if [[ -n $left ]]; then
    echo "the test change is still there: $(tr '\n' ' ' <<<"$left")" >&2
    return 1
  fi
  echo "agentry.dev/drill gone from $(wc -l <<<"$annotations") Deployments"
}

migrate_down() { # MIGRATION
  if [[ $1 == null ]]; then
    echo 'no migration applied: nothing to roll back'
    return 0
  fi
  agentry migrate down >&2
  echo "rolled back $1"
}

migrate_up() { # MIGRATION
  if [[ $1 == null ]]; then
    echo 'no migration applied: nothing to apply'
    return 0
  fi
  local current
  current=$(agentry migrate status --json | jq -r '.current // "null"')
  if [[ $current == "$1" ]]; then
    echo "already at $1"
    return 0
  fi
  agentry migrate up --to "$1" >&2
  echo "applied up to $1"
}

verify_schema() { # MIGRATION FINGERPRINT; first line: "after <migration> <fingerprint>"
  local point
  point=$(database_point)
  echo "after $point"
  if [[ ${point%% *} != "$1" ]]; then
    echo "current migration is ${point%% *}, not the recorded $1" >&2
    return 1
  fi
  if [[ ${point#* } != "$2" ]]; then
    echo "schema fingerprint changed: $2 before, ${point#* } after" >&2
    return 1
  fi
  echo "back at $1, schema fingerprint unchanged"
}

# ---------------------------------------------------------------------------------------------

at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
revision=''
migration=''
fingerprint=''
fingerprint_after=''
migration_after=''

if [[ $skip_helm == false ]]; then
  run_step record-helm record_helm
  [[ $step_ok == false ]] || revision=$(sed -E 's/^revision ([0-9]+).*/\1/' <<<"$step_out")
fi
run_step record-database database_point
if [[ $step_ok == true ]]; then
  migration=${step_out%% *}
  fingerprint=${step_out#* }
fi

if [[ -n $revision ]]; then
  # Roll back even when the change failed half-way: that is what the recorded revision is for.
  run_step apply-change apply_change "$stamp"
  run_step helm-rollback rollback_helm "$revision"
  if [[ $step_ok == true ]]; then
    run_step verify-rollback verify_rollback
  fi
fi

if [[ -n $migration ]]; then
  # Up to the recorded migration even when down failed: it restores a half-done down.
  run_step migrate-down migrate_down "$migration"
  run_step migrate-up migrate_up "$migration"
  run_step verify-schema verify_schema "$migration" "$fingerprint"
  after=$(sed -n 's/^after //p' <<<"$step_out")
  migration_after=${after%% *}
  fingerprint_after=${after#* }
fi

ok=true
[[ $failed == false ]] || ok=false
mkdir -p "$(dirname "$log")"
jq -nc \
  --arg at "$at" --arg release "$release" --arg namespace "$namespace" \
  --arg revision "$revision" --arg migration "$migration" --arg migrationAfter "$migration_after" \
  --arg before "$fingerprint" --arg after "$fingerprint_after" \
  --argjson steps "$steps" --argjson ok "$ok" \
  'def orNull: if . == "" or . == "null" then null else . end;
   {at: $at, release: ($release | orNull), namespace: ($namespace | orNull),
    helmRevision: ($revision | orNull | if . == null then null else tonumber end),
    migration: ($migration | orNull), migrationAfter: ($migrationAfter | orNull),
    fingerprint: {before: ($before | orNull), after: ($after | orNull)},
    steps: $steps, ok: $ok}' >>"$log"

echo "rollback-drill: $([[ $ok == true ]] && echo passed || echo FAILED); logged to $log" >&2
[[ $ok == true ]] || exit 1
