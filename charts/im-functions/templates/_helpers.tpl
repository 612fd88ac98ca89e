{{/*
Names, labels and the pieces every workload shares (image, env, probes, volumes).
Functions are addressed by their names (route-private, …); each helper taking a
function gets a dict: (dict "root" $ "fn" "route-private").
*/}}

{{- define "im.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "im.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<function>: at most 40 + 1 + 15 characters, a valid DNS-1035 label. */}}
{{- define "im.fnName" -}}
{{- printf "%s-%s" (include "im.fullname" .root) .fn | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "im.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "im.commonLabels" -}}
helm.sh/chart: {{ include "im.chart" . }}
app.kubernetes.io/name: {{ include "im.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: im-functions
{{- end -}}

{{- define "im.selectorLabels" -}}
app.kubernetes.io/name: {{ include "im.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .fn }}
{{- end -}}

{{- define "im.labels" -}}
{{ include "im.commonLabels" .root }}
app.kubernetes.io/component: {{ .fn }}
{{- end -}}

{{- define "im.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "im.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "im.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "im.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The values block of a function. */}}
{{- define "im.fnValues" -}}
{{- toYaml (index .root.Values.functions .fn) -}}
{{- end -}}

{{/* <repository>/<image>:<tag>; a function's image.repository / image.tag override. */}}
{{- define "im.image" -}}
{{- $img := default dict .image -}}
{{- $repo := default (printf "%s/%s" .root.Values.image.repository .name) $img.repository -}}
{{- $tag := default (default .root.Chart.AppVersion .root.Values.image.tag) $img.tag -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}

{{/* Pod annotations: Prometheus scrape, a config checksum (rolls pods on change), extras. */}}
{{- define "im.podAnnotations" -}}
{{- $root := .root -}}
{{- if $root.Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ $root.Values.ports.http | quote }}
prometheus.io/path: {{ $root.Values.metrics.path | quote }}
{{- end }}
checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
{{- with $root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Environment: ports, the Secret's keys, then the function's own overrides. */}}
{{- define "im.env" -}}
{{- $root := .root -}}
{{- $fv := index $root.Values.functions .fn -}}
- name: HTTP_PORT
  value: {{ $root.Values.ports.http | quote }}
- name: GRPC_PORT
  value: {{ $root.Values.ports.grpc | quote }}
{{- if and (include "im.filters" .) (not (hasKey $root.Values.config "FILTER_WORDLIST_PATH")) }}
- name: FILTER_WORDLIST_PATH
  value: {{ $root.Values.filter.mountPath | quote }}
{{- end }}
{{- range $var, $key := $root.Values.secrets.keys }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ include "im.secretName" $root }}
      key: {{ $key }}
      optional: true
{{- end }}
{{- range $name, $value := $fv.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with $fv.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "im.envFrom" -}}
- configMapRef:
    name: {{ include "im.fullname" .root }}-config
{{- end -}}

{{- /*
Probes on /health and /ready of the HTTP port. A Knative Service probes only its serving
port, and a router's serving port speaks gRPC (h2c), so a router under Knative passes
`tcpPort` and is probed by a TCP connect there — Knative's own default probe.
*/ -}}
{{- define "im.probes" -}}
{{- $root := .root -}}
{{- $l := $root.Values.probes.liveness -}}
{{- $r := $root.Values.probes.readiness -}}
livenessProbe:
  {{- if .tcpPort }}
  tcpSocket:
    port: {{ .tcpPort }}
  {{- else }}
  httpGet:
    path: {{ $l.path }}
    port: {{ $root.Values.ports.http }}
  {{- end }}
  initialDelaySeconds: {{ $l.initialDelaySeconds }}
  periodSeconds: {{ $l.periodSeconds }}
  timeoutSeconds: {{ $l.timeoutSeconds }}
  failureThreshold: {{ $l.failureThreshold }}
readinessProbe:
  {{- if .tcpPort }}
  tcpSocket:
    port: {{ .tcpPort }}
  {{- else }}
  httpGet:
    path: {{ $r.path }}
    port: {{ $root.Values.ports.http }}
  {{- end }}
  initialDelaySeconds: {{ $r.initialDelaySeconds }}
  periodSeconds: {{ $r.periodSeconds }}
  timeoutSeconds: {{ $r.timeoutSeconds }}
  failureThreshold: {{ $r.failureThreshold }}
{{- end -}}

{{/* Non-empty when this function filters content and the chart carries a word list. */}}
{{- define "im.filters" -}}
{{- if and .root.Values.filter.wordlist (has .fn (list "route-private" "route-group")) }}true{{- end }}
{{- end -}}

{{- define "im.volumeMounts" -}}
{{- if include "im.filters" . }}
volumeMounts:
  - name: wordlist
    mountPath: {{ .root.Values.filter.mountPath }}
    subPath: wordlist.txt
    readOnly: true
{{- end }}
{{- end -}}

{{- define "im.volumes" -}}
{{- if include "im.filters" . }}
volumes:
  - name: wordlist
    configMap:
      name: {{ include "im.fullname" .root }}-wordlist
{{- end }}
{{- end -}}

{{/* Scheduling for plain pods (Knative gates these behind feature flags: not used there). */}}
{{- define "im.scheduling" -}}
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The container of a plain (non-Knative) workload. */}}
{{- define "im.container" -}}
{{- $root := .root -}}
{{- $fv := index $root.Values.functions .fn -}}
- name: {{ .fn }}
  image: {{ include "im.image" (dict "root" $root "name" .fn "image" $fv.image) }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  {{- with .args }}
  args:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .ports }}
  ports:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  env:
    {{- include "im.env" . | nindent 4 }}
  envFrom:
    {{- include "im.envFrom" . | nindent 4 }}
  {{- if .probes }}
  {{- include "im.probes" . | nindent 2 }}
  {{- end }}
  resources:
    {{- toYaml $fv.resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.containerSecurityContext | nindent 4 }}
  {{- include "im.volumeMounts" . | nindent 2 }}
{{- end -}}
