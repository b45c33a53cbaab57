//! `/federate?match[]=...`: the latest sample of every selected series within the lookback
//! delta, in the text exposition format, families sorted by name, with external labels.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::Labels;

use crate::params::Params;
use crate::state::ApiState;

/// Content type of the text exposition format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /federate`.
pub async fn federate(State(st): State<ApiState>, p: Params) -> Response {
    let mut sets = Vec::new();
    for s in p.all("match[]") {
        match promql::parser::selectors(s) {
            Ok(mut m) => sets.append(&mut m),
            Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
        }
    }
    let maxt = st.now();
    let mint = maxt - st.flags.lookback_delta_ms;
    let q = st.queryable.clone();
    let external = (st.external_labels)();
    let res = tokio::task::spawn_blocking(move || -> Result<String, storage::StorageError> {
        let querier = q.querier(mint, maxt)?;
        let mut latest: BTreeMap<Labels, (i64, f64)> = BTreeMap::new();
        for set in &sets {
            for series in querier.select(true, None, set)? {
                let mut series = series?;
                if latest.contains_key(&series.labels) {
                    continue;
                }
                let mut last = None;
                while let Some(s) = series.samples.next() {
                    if s.t > maxt {
                        break;
                    }
                    last = Some((s.t, s.v));
                }
                if let Some(e) = series.samples.err() {
                    return Err(e);
                }
                if let Some((t, v)) = last
                    && !model::value::is_stale_nan(v)
                {
                    latest.insert(series.labels, (t, v));
                }
            }
        }
        let mut rows: Vec<(Labels, (i64, f64))> = latest.into_iter().collect();
        rows.sort_by(|a, b| a.0.metric_name().cmp(&b.0.metric_name()));
        Ok(render(&rows, &external))
    })
    .await;
    match res {
        Ok(Ok(body)) => ([(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)], body).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

fn escape_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Renders the text format: one `# TYPE <name> untyped` per run of equal names.
fn render(rows: &[(Labels, (i64, f64))], external: &Labels) -> String {
    let mut ext: BTreeMap<&str, &str> = external.iter().map(|l| (&*l.name, &*l.value)).collect();
    ext.entry("instance").or_insert("");
    let mut out = String::new();
    let mut last_name: Option<&str> = None;
    for (labels, (t, v)) in rows {
        let Some(name) = labels.metric_name() else { continue };
        if last_name != Some(name) {
            let _ = writeln!(out, "# TYPE {name} untyped");
            last_name = Some(name);
        }
        out.push_str(name);
        let mut pairs: Vec<(&str, &str)> = labels
            .iter()
            .filter(|l| &*l.name != model::METRIC_NAME && !l.value.is_empty())
            .map(|l| (&*l.name, &*l.value))
            .collect();
        for (n, v) in &ext {
            if labels.get(n).is_none_or(str::is_empty) {
                pairs.push((n, v));
            }
        }
        if !pairs.is_empty() {
            out.push('{');
            for (i, (n, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(n);
                out.push_str("=\"");
                escape_value(&mut out, v);
                out.push('"');
            }
            out.push('}');
        }
        let _ = writeln!(out, " {} {t}", model::go_float::g(*v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_with_external_labels() {
        let rows = vec![
            (Labels::new([("__name__", "a"), ("job", "x")]), (1000, 1.0)),
            (Labels::new([("__name__", "a"), ("job", "y"), ("instance", "i")]), (2000, 2.5e6)),
            (Labels::new([("__name__", "b"), ("l", "q\"\n")]), (3000, f64::NAN)),
        ];
        let ext = Labels::new([("region", "eu")]);
        assert_eq!(
            render(&rows, &ext),
            "# TYPE a untyped\na{job=\"x\",instance=\"\",region=\"eu\"} 1 1000\n\
             a{instance=\"i\",job=\"y\",region=\"eu\"} 2.5e+06 2000\n\
             # TYPE b untyped\nb{l=\"q\\\"\\n\",instance=\"\",region=\"eu\"} NaN 3000\n"
        );
    }
}
