//! Template rendering tests.

use model::Labels;

use super::*;
use crate::alert::Alert;
use crate::timefmt::GO_ZERO_MS;

fn alert(pairs: &[(&str, &str)], ends_at: i64) -> Alert {
    Alert {
        labels: Labels::new(pairs.iter().copied()),
        annotations: Labels::new([("summary", "it broke")]),
        starts_at: 0,
        ends_at,
        generator_url: "http://prom/graph".into(),
        updated_at: 0,
        timeout: false,
    }
}

#[test]
fn rewrites_methods() {
    assert_eq!(rewrite_methods("{{ .Alerts.Firing | len }}"), "{{ .AlertsFiring | len }}");
    assert_eq!(
        rewrite_methods("{{ .GroupLabels.SortedPairs.Values }}"),
        "{{ (values (sortedPairs .GroupLabels)) }}"
    );
    assert_eq!(
        rewrite_methods("{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values }}{{ end }}"),
        "{{ with (remove .CommonLabels (names .GroupLabels)) }}{{ (values .) }}{{ end }}"
    );
}

#[test]
fn default_subject_and_text_list() {
    let alerts = vec![
        alert(&[("alertname", "Down"), ("job", "api"), ("instance", "a")], GO_ZERO_MS),
        alert(&[("alertname", "Down"), ("job", "api"), ("instance", "b")], 10),
    ];
    let data =
        template_data("team.x", &Labels::new([("alertname", "Down")]), &alerts, "http://am", 100);
    assert_eq!(data.receiver, "team\\.x");
    assert_eq!(data.status, "firing");
    let t = Templates::defaults();
    let v = data.to_value();
    assert_eq!(t.execute(r#"{{ template "__subject" . }}"#, &v).unwrap(), "[FIRING:1] Down (api)");
    let list = t.execute(r#"{{ template "__text_alert_list" .Alerts.Resolved }}"#, &v).unwrap();
    assert_eq!(
        list,
        "Labels:\n - alertname = Down\n - instance = b\n - job = api\nAnnotations:\n - summary = it broke\nSource: http://prom/graph\n"
    );
    let url = t.execute(r#"{{ template "__alertmanagerURL" . }}"#, &v).unwrap();
    assert_eq!(url, "http://am/#/alerts?receiver=team%5C.x");
}

#[test]
fn functions() {
    let t = Templates::defaults();
    let v = template_data("r", &Labels::empty(), &[], "", 0).to_value();
    assert_eq!(
        t.execute(
            r#"{{ "a b" | title }} {{ reReplaceAll "(a)b" "${1}x" "ab" }} {{ match "^a" "abc" }}"#,
            &v
        )
        .unwrap(),
        "A B ax true"
    );
}

#[test]
fn time_format_method() {
    let t = Templates::defaults();
    let mut a = alert(&[("alertname", "Down")], GO_ZERO_MS);
    a.starts_at = 1_800_000_000_500;
    let v = template_data("r", &Labels::empty(), &[a], "", 0).to_value();
    let out = t.execute(r#"{{ range .Alerts }}{{ .StartsAt.Format "2006-01-02T15:04:05.000Z07:00" }} {{ .StartsAt.Format "Jan _2 03:04PM" }}{{ end }}"#, &v).unwrap();
    assert_eq!(out, "2027-01-15T08:00:00.500Z Jan 15 08:00AM");
}
