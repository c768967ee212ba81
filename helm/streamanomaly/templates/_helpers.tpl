{{- define "streamanomaly.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "streamanomaly.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "streamanomaly.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The aggregators' headless service: stable DNS names for the cluster's seed nodes. */}}
{{- define "streamanomaly.seedService" -}}
{{ include "streamanomaly.fullname" . }}-aggregator-headless
{{- end -}}

{{/* The journal's PostgreSQL host: the chart's own StatefulSet service, or journal.postgresql.host. */}}
{{- define "streamanomaly.journalHost" -}}
{{- if .Values.journal.postgresql.deploy -}}
{{ include "streamanomaly.fullname" . }}-postgresql
{{- else -}}
{{ required "journal.postgresql.host must name the PostgreSQL server when journal.postgresql.deploy is false" .Values.journal.postgresql.host }}
{{- end -}}
{{- end -}}

{{/* Environment shared by every node; the caller passes (dict "root" $ "role" ROLE). */}}
{{- define "streamanomaly.env" -}}
{{- $root := .root -}}
{{- $full := include "streamanomaly.fullname" $root -}}
- name: POD_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- name: POD_NAMESPACE
  valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
- name: POD_IP
  valueFrom: {fieldRef: {fieldPath: status.podIP}}
- name: STREAMANOMALY__NODE__CLUSTERNAME
  value: {{ $root.Values.clusterName | quote }}
- name: STREAMANOMALY__NODE__HOST
{{- if eq .role "aggregator" }}
  value: "$(POD_NAME).{{ include "streamanomaly.seedService" $root }}.$(POD_NAMESPACE).svc.{{ $root.Values.clusterDomain }}"
{{- else }}
  value: "$(POD_IP)"
{{- end }}
- name: STREAMANOMALY__NODE__PORT
  value: {{ $root.Values.ports.remoting | quote }}
{{- range $i := until (int (min $root.Values.aggregator.seedCount $root.Values.aggregator.replicas)) }}
- name: STREAMANOMALY__NODE__SEEDNODES__{{ $i }}
  value: "{{ $full }}-aggregator-{{ $i }}.{{ include "streamanomaly.seedService" $root }}.$(POD_NAMESPACE).svc.{{ $root.Values.clusterDomain }}:{{ $root.Values.ports.remoting }}"
{{- end }}
- name: STREAMANOMALY__CLUSTER__ALLOWPLAINTEXT
  value: {{ $root.Values.cluster.allowPlaintext | quote }}
{{- if $root.Values.cluster.tlsSecret }}
- name: STREAMANOMALY__CLUSTER__CERTIFICATEFILE
  value: "/var/run/secrets/streamanomaly-cluster/{{ $root.Values.cluster.certificateKey }}"
- name: STREAMANOMALY__CLUSTER__CERTIFICATEPASSWORDFILE
  value: "/var/run/secrets/streamanomaly-cluster/{{ $root.Values.cluster.passwordKey }}"
{{- end }}
- name: STREAMANOMALY__HTTP__LISTEN
  value: "0.0.0.0:{{ $root.Values.ports.http }}"
- name: STREAMANOMALY__HTTP__TOKENFILE
  value: "/var/run/secrets/streamanomaly/{{ $root.Values.http.tokenKey }}"
- name: STREAMANOMALY__KAFKA__BOOTSTRAPSERVERS
  value: {{ $root.Values.kafka.bootstrapServers | quote }}
- name: STREAMANOMALY__KAFKA__FRAMESTOPIC
  value: {{ $root.Values.kafka.framesTopic | quote }}
- name: STREAMANOMALY__KAFKA__CONSUMERGROUP
  value: {{ $root.Values.kafka.consumerGroup | quote }}
- name: STREAMANOMALY__KAFKA__PARTITIONS
  value: {{ $root.Values.kafka.partitions | quote }}
- name: STREAMANOMALY__KAFKA__REPLICATIONFACTOR
  value: {{ $root.Values.kafka.replicationFactor | quote }}
{{- if eq .role "aggregator" }}
{{- $pg := $root.Values.journal.postgresql }}
- name: STREAMANOMALY__JOURNAL__PROVIDER
  value: "postgresql"
- name: STREAMANOMALY__JOURNAL__CONNECTIONSTRING
  value: "Host={{ include "streamanomaly.journalHost" $root }};Port={{ $pg.port }};Database={{ $pg.database }};Username={{ $pg.username }}"
- name: STREAMANOMALY__JOURNAL__PASSWORDFILE
  value: "/var/run/secrets/journal/{{ $pg.passwordKey }}"
{{- end }}
{{- if eq .role "worker" }}
- name: STREAMANOMALY__WORKER__DEVICE
  value: {{ ternary "cuda" $root.Values.worker.device $root.Values.worker.gpu.enabled | quote }}
{{- range $i, $b := $root.Values.models.bundles }}
- name: STREAMANOMALY__WORKER__BUNDLES__{{ $i }}
  value: {{ $b | quote }}
{{- end }}
{{- end }}
{{- with $root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
