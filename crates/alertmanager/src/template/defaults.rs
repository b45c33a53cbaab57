//! The default notification templates, written to produce Alertmanager 0.25's default
//! texts (`__subject`, `__text_alert_list`, and each integration's `*.default.*`).
//! `email.default.html` is a plain HTML rendering, not Alertmanager's inlined-CSS page.

pub const DEFAULT_TEMPLATES: &str = r#"
{{- define "__alertmanager" }}Alertmanager{{ end }}
{{- define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}
{{- define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{- define "__description" }}{{ end }}
{{- define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}
{{- define "__firing_resolved_lists" }}{{ if gt (len .Alerts.Firing) 0 -}}
Alerts Firing:
{{ template "__text_alert_list" .Alerts.Firing }}
{{- end }}
{{ if gt (len .Alerts.Resolved) 0 -}}
Alerts Resolved:
{{ template "__text_alert_list" .Alerts.Resolved }}
{{- end }}{{ end }}
{{- define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{- define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{- define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}
{{- define "slack.default.callbackid" }}{{ end }}
{{- define "slack.default.pretext" }}{{ end }}
{{- define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{- define "slack.default.iconemoji" }}{{ end }}
{{- define "slack.default.iconurl" }}{{ end }}
{{- define "slack.default.text" }}{{ end }}
{{- define "slack.default.footer" }}{{ end }}
{{- define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{- define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{- define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{- define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}
{{- define "opsgenie.default.message" }}{{ template "__subject" . }}{{ end }}
{{- define "opsgenie.default.description" }}{{ .CommonAnnotations.SortedPairs.Values | join " " }}
{{ template "__firing_resolved_lists" . }}
{{- end }}
{{- define "opsgenie.default.source" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{- define "msteams.default.summary" }}{{ template "__subject" . }}{{ end }}
{{- define "msteams.default.title" }}{{ template "__subject" . }}{{ end }}
{{- define "msteams.default.text" }}{{ range .Alerts }}
# Alert {{ .Status }}
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}{{ end }}{{ end }}
{{- define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{- define "email.default.text" }}{{ template "__subject" . }}

{{ template "__firing_resolved_lists" . }}
View in {{ template "__alertmanager" . }}: {{ template "__alertmanagerURL" . }}
{{ end }}
{{- define "email.default.html" }}<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>{{ template "__subject" . }}</title></head>
<body>
<p><a href="{{ template "__alertmanagerURL" . }}">View in {{ template "__alertmanager" . }}</a></p>
{{ if gt (len .Alerts.Firing) 0 }}<h3>[{{ .Alerts.Firing | len }}] Firing</h3>
{{ range .Alerts.Firing }}<p><strong>Labels</strong><br>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}{{ if gt (len .Annotations) 0 }}<strong>Annotations</strong><br>{{ end }}{{ range .Annotations.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}<a href="{{ .GeneratorURL }}">Source</a></p>
{{ end }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}<h3>[{{ .Alerts.Resolved | len }}] Resolved</h3>
{{ range .Alerts.Resolved }}<p><strong>Labels</strong><br>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}{{ if gt (len .Annotations) 0 }}<strong>Annotations</strong><br>{{ end }}{{ range .Annotations.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}<a href="{{ .GeneratorURL }}">Source</a></p>
{{ end }}{{ end }}</body></html>
{{ end }}
"#;
