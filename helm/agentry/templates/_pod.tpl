{{/*
Pod parts shared by the Deployments, the migration Job and the test pod.
*/}}

{{/* Pod labels: selector labels, track (Deployments only), version, then podLabels (chart-wide, then the component's). Args: root, component, track, [tag], [own]. */}}
{{- define "agentry.podLabels" -}}
{{- $labels := include "agentry.selectorLabels" . | fromYaml }}
{{- with .track }}
{{- $_ := set $labels "track" . }}
{{- end }}
{{- $version := include "agentry.tag" (.tag | default .root.Values.image.tag | default .root.Chart.AppVersion) }}
{{- $_ := set $labels "app.kubernetes.io/version" ($version | replace "+" "_" | trunc 63 | trimSuffix "-" | trimSuffix "_" | trimSuffix ".") }}
{{- $labels = merge $labels (.own | default dict) (.root.Values.podLabels | default dict) }}
{{- toYaml $labels }}
{{- end }}

{{/* Pod annotations: chart-wide podAnnotations, then the component's, then extra. Args: root, [own], [extra]. */}}
{{- define "agentry.podAnnotations" -}}
{{- $annotations := merge (dict) (.extra | default dict) (.own | default dict) (.root.Values.podAnnotations | default dict) }}
{{- with $annotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/* Whether pods get a service account token: asked for, or needed by Vault's kubernetes auth. Args: root, component. */}}
{{- define "agentry.automountToken" -}}
{{- $env := include "agentry.envMap" . | fromYaml }}
{{- or .root.Values.serviceAccount.automountToken (eq (get $env "AGENTRY_SECRETS_VAULT_AUTH") "kubernetes") }}
{{- end }}

{{/* Volumes: /tmp, and the Secret of file:// references. Args: root. */}}
{{- define "agentry.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .root.Values.secretFiles.enabled }}
- name: secret-files
  secret:
    secretName: {{ include "agentry.secretFilesName" .root }}
    defaultMode: {{ .root.Values.secretFiles.defaultMode | int64 }}
{{- end }}
{{- end }}

{{- define "agentry.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .root.Values.secretFiles.enabled }}
- name: secret-files
  mountPath: {{ .root.Values.secretFiles.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Settings every pod of the release shares. Args: root, component. */}}
{{- define "agentry.podCommon" -}}
enableServiceLinks: false
automountServiceAccountToken: {{ include "agentry.automountToken" . }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Scheduling: the component's nodeSelector, tolerations, affinity and priority class, else the chart's. Args: root, component, track. */}}
{{- define "agentry.scheduling" -}}
{{- $root := .root }}
{{- $c := index $root.Values .component }}
{{- range $key := list "nodeSelector" "tolerations" "affinity" }}
{{- $v := index $c $key }}
{{- if kindIs "invalid" $v }}{{ $v = index $root.Values $key }}{{ end }}
{{- with $v }}
{{ $key }}:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- with ($c.priorityClassName | default $root.Values.priorityClassName) }}
priorityClassName: {{ . }}
{{- end }}
{{- if $c.topologySpread.enabled }}
topologySpreadConstraints:
  {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
  - maxSkew: 1
    topologyKey: {{ $key }}
    whenUnsatisfiable: {{ $c.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "agentry.deploymentSelectorLabels" $ | nindent 8 }}
    matchLabelKeys: [pod-template-hash]
  {{- end }}
{{- end }}
{{- end }}

{{/* A probe on the component's port. Args: path, port, timings (the component's probe values). */}}
{{- define "agentry.probe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
{{- toYaml .timings | nindent 0 }}
{{- end }}
