{{/*
Names and labels. Helpers that need a component take (dict "root" $ "component" "planner" …).
*/}}

{{- define "agentry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* `<release>-agentry`, or the release name when it already contains the chart name. */}}
{{- define "agentry.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* `<fullname>-<component>[-canary]`. Args: root, component, [track]. */}}
{{- define "agentry.componentName" -}}
{{- $name := printf "%s-%s" (include "agentry.fullname" .root) .component }}
{{- if eq (.track | default "stable") "canary" }}
{{- $name = printf "%s-canary" $name }}
{{- end }}
{{- $name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "agentry.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels of every object. Args: root, [component]. */}}
{{- define "agentry.labels" -}}
helm.sh/chart: {{ include "agentry.chart" .root }}
{{ include "agentry.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: agentry
{{- end }}

{{/* What Services, PDBs and ServiceMonitors select by. Args: root, [component]. */}}
{{- define "agentry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentry.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* A Deployment's selector: the component and its track (stable or canary never overlap). */}}
{{- define "agentry.deploymentSelectorLabels" -}}
{{ include "agentry.selectorLabels" . }}
track: {{ .track | default "stable" }}
{{- end }}

{{- define "agentry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "agentry.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "agentry.migrationServiceAccountName" -}}
{{- if .Values.migrations.serviceAccount.create }}
{{- printf "%s-migrate" (include "agentry.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- default (include "agentry.serviceAccountName" .) .Values.migrations.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret mounted for file:// references. */}}
{{- define "agentry.secretFilesName" -}}
{{- default (printf "%s-secrets" (include "agentry.fullname" .)) .Values.secretFiles.secretName }}
{{- end }}

{{/*
An image tag as text. `--set image.tag=1234567` (a short commit id of digits) arrives as a
number, which must not print as 1.234567e+06.
*/}}
{{- define "agentry.tag" -}}
{{- include "agentry.envValue" . }}
{{- end }}

{{/* `<registry>/<repository>-<app>:<tag>`. Args: root, app, [tag]. */}}
{{- define "agentry.image" -}}
{{- $img := .root.Values.image }}
{{- $tag := include "agentry.tag" (.tag | default $img.tag | default .root.Chart.AppVersion) }}
{{- $repo := printf "%s-%s" $img.repository .app }}
{{- if $img.registry }}
{{- printf "%s/%s:%s" $img.registry $repo $tag }}
{{- else }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/* The drain deadline of a component, in ms. Args: root, component. */}}
{{- define "agentry.shutdownDeadlineMs" -}}
{{- $c := index .root.Values .component }}
{{- $c.shutdownDeadlineMs | default .root.Values.shutdownDeadlineMs | int64 }}
{{- end }}

{{- define "agentry.terminationGracePeriodSeconds" -}}
{{- $c := index .root.Values .component }}
{{- $c.terminationGracePeriodSeconds | default .root.Values.terminationGracePeriodSeconds | int64 }}
{{- end }}

{{/* keda, hpa or none: how the planner and the executor are scaled. */}}
{{- define "agentry.autoscalingMode" -}}
{{- $mode := .Values.autoscaling.mode }}
{{- if eq $mode "auto" }}
{{- if and .Values.autoscaling.keda.enabled (.Capabilities.APIVersions.Has "keda.sh/v1alpha1") }}keda{{ else }}hpa{{ end }}
{{- else }}
{{- $mode }}
{{- end }}
{{- end }}

{{/* KEDA's per-replica target: jobsPerReplica, else the concurrency. Args: root, component. */}}
{{- define "agentry.jobsPerReplica" -}}
{{- $c := index .root.Values .component }}
{{- $c.autoscaling.jobsPerReplica | default $c.concurrency | int64 }}
{{- end }}

{{/* The queue a worker consumes. */}}
{{- define "agentry.queue" -}}
{{- if eq . "planner" }}agentry.plan{{ else if eq . "executor" }}agentry.step{{ else }}{{ fail (printf "no queue for %s" .) }}{{ end }}
{{- end }}

{{/*
The KEDA query: jobs waiting, prioritized, delayed or active on the component's queue. Every API
replica exports the same gauges (they read one Redis), so each state is taken once (max by state)
before the states are added up. Args: root, component.
*/}}
{{- define "agentry.kedaQuery" -}}
{{- $p := .root.Values.autoscaling.keda.prometheus }}
{{- $matchers := list (printf "queue=%q" (include "agentry.queue" .component)) "state=~\"waiting|prioritized|delayed|active\"" }}
{{- if has $p.scope (list "release" "namespace") }}
{{- $matchers = append $matchers (printf "namespace=%q" .root.Release.Namespace) }}
{{- end }}
{{- if eq $p.scope "release" }}
{{- $matchers = append $matchers (printf "service=%q" (include "agentry.componentName" (dict "root" .root "component" "api"))) }}
{{- end }}
{{- with $p.extraMatchers }}
{{- $matchers = append $matchers . }}
{{- end }}
{{- printf "sum(max by (state) (agentry_queue_jobs{%s}))" (join "," $matchers) }}
{{- end }}
