//! Request parameters: the merged form (POST body first, then the URL query, as Go's
//! `r.Form`, parsed as Go's `url.ParseQuery`) and Prometheus' parsers for time parameters,
//! limits and `match[]` selectors (times and durations themselves: [`crate::gotime`]).

use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use model::Matcher;

use crate::envelope::ApiError;
pub use crate::gotime::{UnixTime, parse_duration, parse_time};

/// Prometheus' `MinTime` in milliseconds (the default start of optional ranges).
pub const MIN_TIME_MS: i64 = (i64::MIN / 1000 + 62_135_596_801) * 1000;
/// Prometheus' `MaxTime` in milliseconds (the default end of optional ranges).
pub const MAX_TIME_MS: i64 = (i64::MAX / 1000 - 62_135_596_801) * 1000 + 999;

/// All request parameters: form body values first, then URL query values, as Go's `r.Form`
/// after `ParseForm`, with the first error `ParseForm` would report.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// Go's `ParseForm` error (a bad escape or a `;` in the URL query or the form body): only
    /// the series endpoint reports it; every endpoint reads the pairs that did parse.
    pub form_error: Option<String>,
}

impl Params {
    /// Parameters from a URL query string and an optional urlencoded body.
    pub fn parse(query: Option<&str>, body: Option<&[u8]>) -> Params {
        let mut p = Params::default();
        // The body's error takes precedence over the URL's, as in Go's ParseForm.
        let body_error = body.and_then(|b| p.parse_query(&String::from_utf8_lossy(b)));
        let url_error = query.and_then(|q| p.parse_query(q));
        p.form_error = body_error.or(url_error);
        p
    }

    /// Go's `url.ParseQuery`: pairs split at `&`; a pair with `;` or a bad `%` escape is
    /// dropped. Returns the error Go reports (a `;` replaces an earlier error, as in Go).
    fn parse_query(&mut self, q: &str) -> Option<String> {
        let mut err = None;
        for pair in q.split('&') {
            if pair.contains(';') {
                err = Some("invalid semicolon separator in query".to_string());
                continue;
            }
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (query_unescape(k), query_unescape(v)) {
                (Ok(k), Ok(v)) => self.pairs.push((k, v)),
                (Err(e), _) | (_, Err(e)) => {
                    err.get_or_insert(e);
                }
            }
        }
        err
    }

    /// The first value of `name`, or "" (Go's `FormValue`).
    pub fn get(&self, name: &str) -> &str {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// Go's `url.QueryUnescape`: `+` is a space, `%` must be followed by two hex digits.
fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
                let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                    let bad = String::from_utf8_lossy(&b[i..(i + 3).min(b.len())]).to_string();
                    return Err(format!("invalid URL escape {}", model::go_quote(&bad)));
                };
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Params, ApiError> {
        let query = req.uri().query().map(str::to_string);
        // Go reads a body as a form when its media type (case-insensitive, parameters
        // ignored) is urlencoded, for POST, PUT and PATCH.
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        let has_body = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
        let body = if is_form && has_body {
            let bytes = bytes::Bytes::from_request(req, state).await.map_err(|e| {
                ApiError::bad_data(format!("error parsing form values: {}", e.body_text()))
            })?;
            Some(bytes)
        } else {
            None
        };
        Ok(Params::parse(query.as_deref(), body.as_deref()))
    }
}

/// An optional time parameter with a default (Prometheus' `parseTimeParam`).
pub fn time_param(p: &Params, name: &str, default: UnixTime) -> Result<UnixTime, ApiError> {
    let v = p.get(name);
    if v.is_empty() {
        return Ok(default);
    }
    parse_time(v)
        .map_err(|e| ApiError::invalid_param(name, format!("Invalid time value for '{name}': {e}")))
}

/// Parses `limit` (0 = none), as Prometheus' `parseLimitParam`.
pub fn parse_limit(s: &str) -> Result<usize, ApiError> {
    if s.is_empty() {
        return Ok(0);
    }
    let n: i64 = s.parse().map_err(|e: std::num::ParseIntError| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        ApiError::invalid_param("limit", format!("strconv.Atoi: parsing {s:?}: {why}"))
    })?;
    if n < 0 {
        return Err(ApiError::invalid_param("limit", "limit must be non-negative"));
    }
    Ok(n as usize)
}

/// Parses `match[]` selectors; each set must have a matcher not matching the empty string.
pub fn parse_match_sets(values: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let mut sets = Vec::with_capacity(values.len());
    for v in values {
        let mut parsed = promql::parser::selectors(v).map_err(|e| e.to_string())?;
        sets.append(&mut parsed);
    }
    for set in &sets {
        if set.iter().all(Matcher::matches_empty) {
            return Err("match[] must contain at least one non-empty matcher".into());
        }
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(parse_limit(""), Ok(0));
        assert_eq!(parse_limit("5"), Ok(5));
        assert_eq!(
            parse_limit("x").unwrap_err().message,
            "invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert!(parse_limit("-1").is_err());
    }

    #[test]
    fn form_values_come_before_query_values() {
        let p = Params::parse(Some("a=1&m=x"), Some(b"a=2&m=y"));
        assert_eq!(p.get("a"), "2");
        assert_eq!(p.all("m"), vec!["y", "x"]);
        assert_eq!(p.get("none"), "");
    }

    #[test]
    fn queries_parse_as_go() {
        let p = Params::parse(Some("a=1+2&b=%zz&c=x;y&d=%4&e=%41&&=v&f"), None);
        assert_eq!(p.get("a"), "1 2");
        assert_eq!(p.all("b"), Vec::<&str>::new());
        assert_eq!(p.all("c"), Vec::<&str>::new());
        assert_eq!(p.get("e"), "A");
        assert_eq!(p.all("f"), vec![""]);
        assert_eq!(p.all(""), vec!["v"]);
        // The semicolon's error replaces the escape's, as Go's parseQuery does.
        assert_eq!(p.form_error.as_deref(), Some("invalid semicolon separator in query"));
        let p = Params::parse(Some("a=%4"), Some(b"b=%zz1"));
        assert_eq!(p.form_error.as_deref(), Some("invalid URL escape \"%zz\""));
    }
}
