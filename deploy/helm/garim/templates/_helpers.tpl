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

{{/* The Secret and key holding the Postgres URL of the shared vault index. */}}
{{- define "garim.indexSecret" -}}
{{- if .Values.postgres.existingSecret -}}
{{- .Values.postgres.existingSecret -}}
{{- else -}}
{{- printf "%s-index" (include "garim.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "garim.indexSecretKey" -}}
{{- if .Values.postgres.existingSecret -}}
{{- .Values.postgres.key | default "url" -}}
{{- else -}}
url
{{- end -}}
{{- end -}}

{{/* The site policy as mounted: with postgres.enabled, [storage] index_url_env names GARIM_INDEX_URL. */}}
{{- define "garim.policy" -}}
{{- $policy := required "site.policy: the site policy (TOML) is required" .Values.site.policy -}}
{{- if .Values.postgres.enabled -}}
{{- $line := `index_url_env = "GARIM_INDEX_URL"` -}}
{{- if regexMatch `(?m)^[ \t]*index_url_env[ \t]*=` $policy -}}
{{- if not (regexMatch `(?m)^[ \t]*index_url_env[ \t]*=[ \t]*"GARIM_INDEX_URL"` $policy) -}}
{{- fail `site.policy: storage.index_url_env must be "GARIM_INDEX_URL" with postgres.enabled (the chart passes the URL in that variable), or be left out` -}}
{{- end -}}
{{- else if regexMatch `(?m)^[ \t]*\[storage\][ \t]*$` $policy -}}
{{- $policy = regexReplaceAll `(?m)^[ \t]*\[storage\][ \t]*$` $policy (printf "[storage]\n%s" $line) -}}
{{- else -}}
{{- $policy = printf "%s\n\n[storage]\n%s\n" (trimSuffix "\n" $policy) $line -}}
{{- end -}}
{{- end -}}
{{- $policy -}}
{{- end -}}
