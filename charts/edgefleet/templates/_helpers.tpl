{{/* Names: <release>-edgefleet, or the release name when it already contains "edgefleet". */}}
{{- define "edgefleet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "edgefleet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component (operator or steering): call with (list $ "operator"). */}}
{{- define "edgefleet.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ $.Chart.Name }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "edgefleet.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "edgefleet.operatorServiceAccount" -}}
{{- .Values.operator.serviceAccount.name | default (printf "%s-operator" (include "edgefleet.fullname" .)) -}}
{{- end -}}

{{- define "edgefleet.steeringServiceAccount" -}}
{{- .Values.steering.serviceAccount.name | default (printf "%s-steering" (include "edgefleet.fullname" .)) -}}
{{- end -}}

{{/* Namespaces where OCAClusters live: agent.namespaces, else watchNamespace, else the release namespace. */}}
{{- define "edgefleet.agentNamespaces" -}}
{{- if .Values.agent.namespaces -}}
{{- toJson .Values.agent.namespaces -}}
{{- else -}}
{{- toJson (list (.Values.watchNamespace | default .Release.Namespace)) -}}
{{- end -}}
{{- end -}}

{{/* Checks the schema cannot express; each failure names the field. */}}
{{- define "edgefleet.validate" -}}
{{- if eq (int .Values.steering.port) (int .Values.steering.healthPort) -}}
{{- fail (printf "steering.port and steering.healthPort must differ (both are %v)" .Values.steering.port) -}}
{{- end -}}
{{- if lt (float64 .Values.steering.requestTimeoutSeconds) (float64 .Values.steering.headersTimeoutSeconds) -}}
{{- fail (printf "steering.requestTimeoutSeconds (%v) must be at least steering.headersTimeoutSeconds (%v)" .Values.steering.requestTimeoutSeconds .Values.steering.headersTimeoutSeconds) -}}
{{- end -}}
{{- if and .Values.watchNamespace .Values.agent.namespaces -}}
{{- range .Values.agent.namespaces -}}
{{- if ne . $.Values.watchNamespace -}}
{{- fail (printf "agent.namespaces: %q is not watched: with watchNamespace=%q the operator only sees OCAClusters there" . $.Values.watchNamespace) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The pod spec parts both Deployments share. */}}
{{- define "edgefleet.podCommon" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
