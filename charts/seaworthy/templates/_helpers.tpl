{{/* Chart name, overridable. */}}
{{- define "seaworthy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects. Objects with a suffix ("-tls", "-default-deny") truncate the
whole name again, so every name stays a valid 63-character DNS label.
*/}}
{{- define "seaworthy.fullname" -}}
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

{{- define "seaworthy.suffixed" -}}
{{- printf "%s-%s" (include "seaworthy.fullname" .root) .suffix | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "seaworthy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select the webhook's pods: the same in the Deployment, Service, PDB, NetworkPolicy and spread constraints. */}}
{{- define "seaworthy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "seaworthy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{- define "seaworthy.labels" -}}
helm.sh/chart: {{ include "seaworthy.chart" . }}
{{ include "seaworthy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: seaworthy
{{- end }}

{{- define "seaworthy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "seaworthy.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "seaworthy.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding tls.crt, tls.key and ca.crt, whichever way it is made. */}}
{{- define "seaworthy.tlsSecretName" -}}
{{- include "seaworthy.suffixed" (dict "root" . "suffix" "tls") }}
{{- end }}

{{/* The names the API server may call the webhook by: <service>.<namespace>.svc is the one it uses. */}}
{{- define "seaworthy.dnsNames" -}}
{{- $svc := include "seaworthy.fullname" . }}
{{- list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) | toJson }}
{{- end }}

{{/* Namespaces never sent to the webhook: kube-system, the release namespace, then exemptNamespaces. */}}
{{- define "seaworthy.exemptNamespaces" -}}
{{- concat (list "kube-system" .Release.Namespace) .Values.exemptNamespaces | uniq | toJson }}
{{- end }}

{{- define "seaworthy.failureMode" -}}
{{- if .Values.failureMode }}
{{- .Values.failureMode }}
{{- else if eq .Values.failurePolicy "Fail" }}
{{- "deny" }}
{{- else }}
{{- "allow" }}
{{- end }}
{{- end }}

{{/* seaworthy's evaluation budget in milliseconds, always below the API server's timeout. */}}
{{- define "seaworthy.evalTimeoutMillis" -}}
{{- $budget := mul (int .Values.webhook.timeoutSeconds) 1000 }}
{{- $eval := int .Values.webhook.evalTimeoutMillis }}
{{- if eq $eval 0 }}
{{- $eval = div (mul $budget 6) 10 }}
{{- end }}
{{- if ge $eval $budget }}
{{- fail (printf "webhook.evalTimeoutMillis (%d) must be below webhook.timeoutSeconds (%d ms), or the API server gives up before seaworthy answers" $eval $budget) }}
{{- end }}
{{- $eval }}
{{- end }}

{{/*
Seconds seaworthy drains requests in flight after SIGTERM: what the grace period leaves after the
preStop sleep, less 2 s before the kubelet's SIGKILL.
*/}}
{{- define "seaworthy.shutdownTimeoutSeconds" -}}
{{- $before := add (int .Values.preStopSleepSeconds) (int .Values.shutdownDelaySeconds) }}
{{- $drain := sub (int .Values.terminationGracePeriodSeconds) (add $before 2) }}
{{- if lt $drain 1 }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + shutdownDelaySeconds (%d) by more than 2 s, to leave time to drain requests in flight" (int .Values.terminationGracePeriodSeconds) $before) }}
{{- end }}
{{- $drain }}
{{- end }}

{{/*
The volume source of the mTLS client CA: a Secret or a ConfigMap, exactly one.
*/}}
{{- define "seaworthy.clientCAVolume" -}}
{{- $ca := .Values.mtls.clientCA }}
{{- if and $ca.secretName $ca.configMapName }}
{{- fail "mtls.clientCA: set secretName or configMapName, not both" }}
{{- else if $ca.secretName }}
secret:
  secretName: {{ $ca.secretName }}
  defaultMode: 0440
  items:
    - key: {{ $ca.key }}
      path: {{ $ca.key }}
{{- else if $ca.configMapName }}
configMap:
  name: {{ $ca.configMapName }}
  defaultMode: 0440
  items:
    - key: {{ $ca.key }}
      path: {{ $ca.key }}
{{- else }}
{{- fail "mtls.enabled needs the client CA: set mtls.clientCA.secretName or mtls.clientCA.configMapName" }}
{{- end }}
{{- end }}

{{/* The .seaworthy.yaml the webhook reads, built from the values. */}}
{{- define "seaworthy.config" -}}
{{- $serve := dict
  "mode" .Values.mode
  "failure_mode" (include "seaworthy.failureMode" .)
  "update_policy" .Values.updatePolicy
  "exempt_namespaces" (include "seaworthy.exemptNamespaces" . | fromJsonArray)
  "allow_annotation_suppression" .Values.allowAnnotationSuppression
  "controller_users" .Values.webhook.controllerUsers
}}
{{- with .Values.actions }}
{{- $_ := set $serve "actions" . }}
{{- end }}
{{- $config := dict "pod_security" .Values.podSecurity "serve" $serve }}
{{- with .Values.rules }}
{{- $_ := set $config "rules" . }}
{{- end }}
{{- with .Values.exemptions }}
{{- $_ := set $config "exemptions" . }}
{{- end }}
{{- toYaml $config }}
{{- end }}
