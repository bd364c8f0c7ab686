{{/*
The environment of a process, as a YAML map of strings: chart-wide env and secretRefs, then the
component's own (they win), then what the chart derives from other values.
Args: root, component (planner | executor | api | migrate | doctor).
*/}}
{{- define "agentry.envMap" -}}
{{- $root := .root }}
{{- $own := dict }}
{{- if has .component (list "planner" "executor" "api") }}
{{- $own = index $root.Values .component }}
{{- else if eq .component "migrate" }}
{{- $own = $root.Values.migrations }}
{{- end }}
{{- $env := dict }}
{{- range $source := list $root.Values.env $root.Values.secretRefs ($own.env | default dict) ($own.secretRefs | default dict) }}
{{- range $k, $v := $source }}
{{- $_ := set $env $k (include "agentry.envValue" $v) }}
{{- end }}
{{- end }}
{{- $managed := include "agentry.managedEnv" . | fromYaml }}
{{- toYaml (merge $managed $env) }}
{{- end }}

{{/* What the chart sets itself; a user value for one of these keys fails the render. */}}
{{- define "agentry.managedEnv" -}}
{{- $root := .root }}
{{- if has .component (list "planner" "executor" "api") }}
AGENTRY_SHUTDOWN_DEADLINE_MS: {{ include "agentry.shutdownDeadlineMs" . | quote }}
{{- end }}
{{- if eq .component "planner" }}
AGENTRY_HEALTH_PORT: {{ $root.Values.healthPort | int64 | quote }}
AGENTRY_PLANNER_CONCURRENCY: {{ $root.Values.planner.concurrency | int64 | quote }}
{{- else if eq .component "executor" }}
AGENTRY_HEALTH_PORT: {{ $root.Values.healthPort | int64 | quote }}
AGENTRY_EXECUTOR_CONCURRENCY: {{ $root.Values.executor.concurrency | int64 | quote }}
{{- else if eq .component "api" }}
AGENTRY_API_PORT: {{ $root.Values.api.port | int64 | quote }}
AGENTRY_API_HOST: "0.0.0.0"
{{- end }}
{{- end }}

{{/* A value as an environment string; whole numbers without an exponent (YAML gives floats). */}}
{{- define "agentry.envValue" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) }}
{{- . | int64 | toString }}
{{- else }}
{{- . | toString }}
{{- end }}
{{- end }}

{{/* The env map as a container's `env:` list. Args: as agentry.envMap. */}}
{{- define "agentry.envList" -}}
{{- range $k, $v := include "agentry.envMap" . | fromYaml }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}

{{/* Raw EnvVar entries: chart-wide extraEnv then the component's. Args: root, component. */}}
{{- define "agentry.extraEnv" -}}
{{- $own := list }}
{{- if has .component (list "planner" "executor" "api") }}
{{- $own = (index .root.Values .component).extraEnv }}
{{- else if eq .component "migrate" }}
{{- $own = .root.Values.migrations.extraEnv }}
{{- end }}
{{- $all := concat (.root.Values.extraEnv | default list) ($own | default list) }}
{{- with $all }}
{{- toYaml . }}
{{- end }}
{{- end }}
