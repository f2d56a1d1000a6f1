{{/*
The chart name, or nameOverride.
*/}}
{{- define "kafka.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The base name of every object: fullnameOverride, else the release name, prefixed with the
chart name unless the release name already contains it.
*/}}
{{- define "kafka.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "kafka.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels every object carries.
*/}}
{{- define "kafka.labels" -}}
helm.sh/chart: {{ include "kafka.chart" . }}
{{ include "kafka.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: coffee-ordering
{{- end }}

{{/*
Labels that select this release's pods; never change them on a running release.
*/}}
{{- define "kafka.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
DNS domain of the headless Service, under which each pod has a stable name.
*/}}
{{- define "kafka.headlessDomain" -}}
{{ include "kafka.fullname" . }}-headless.{{ .Release.Namespace }}.svc.cluster.local
{{- end }}

{{/*
KRaft controller quorum: every node votes, as <node id>@<pod dns>:9093.
*/}}
{{- define "kafka.quorumVoters" -}}
{{- $voters := list }}
{{- range $i := until (int .Values.replicaCount) }}
{{- $voters = append $voters (printf "%d@%s-%d.%s:9093" $i (include "kafka.fullname" $) $i (include "kafka.headlessDomain" $)) }}
{{- end }}
{{- join "," $voters }}
{{- end }}
