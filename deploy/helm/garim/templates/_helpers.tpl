{{/* Name of the StatefulSet and prefix of everything the chart makes. */}}
{{- define "garim.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "garim.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "garim.labels" -}}
{{ include "garim.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "garim.siteKeySecret" -}}
{{- if .Values.siteKey.existingSecret -}}
{{- .Values.siteKey.existingSecret -}}
{{- else -}}
{{- printf "%s-site-key" (include "garim.fullname" .) -}}
{{- end -}}
{{- end -}}
