//! The request checks Alertmanager's generated go-openapi server makes before a handler
//! runs, with its answers: a body that does not decode is a 400 `{"code": 400, "message":
//! "parsing <param> body from \"\" failed, because <error>"}`; a missing required field, too
//! few matchers, a `generatorURL` that is not a request URI or a silence id that is not a UUID
//! is a 422 `{"code": 6xx, "message": ...}` naming the first failing field as go-openapi does
//! (`matchers.0.isRegex in body is required`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A refused request: go-openapi's error code (>= 600 answers 422) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiError {
    pub code: u16,
    pub message: String,
}

impl OpenApiError {
    fn new(code: u16, message: String) -> OpenApiError {
        OpenApiError { code, message }
    }

    fn required(path: &str, location: &str) -> OpenApiError {
        OpenApiError::new(602, format!("{path} in {location} is required"))
    }

    fn format(path: &str, location: &str, format: &str, value: &str) -> OpenApiError {
        OpenApiError::new(601, format!("{path} in {location} must be of type {format}: {value:?}"))
    }

    /// A body that does not decode.
    fn parse(param: &str, reason: &str) -> OpenApiError {
        OpenApiError::new(400, format!("parsing {param} body from \"\" failed, because {reason}"))
    }

    /// A body that does not decode into the handler's type.
    pub fn body(param: &str, e: &serde_json::Error) -> OpenApiError {
        OpenApiError::parse(param, &e.to_string())
    }

    pub fn into_response(self) -> Response {
        let status = if self.code >= 600 {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST)
        };
        (status, axum::Json(json!({"code": self.code, "message": self.message}))).into_response()
    }
}

/// Decodes a body as go-openapi's JSON consumer does: an empty body is a missing required
/// parameter, a truncated one "unexpected EOF".
fn decode(param: &str, body: &[u8]) -> Result<Value, OpenApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(OpenApiError::required(param, "body"));
    }
    // Go's Decoder.Decode reads the first value and leaves whatever follows unread.
    let first = serde_json::Deserializer::from_slice(body).into_iter::<Value>().next();
    first.unwrap_or(Ok(Value::Null)).map_err(|e| {
        let reason = go_json_syntax_error(body).unwrap_or_else(|| {
            if e.is_eof() { "unexpected EOF".to_string() } else { e.to_string() }
        });
        OpenApiError::parse(param, &reason)
    })
}

/// The first syntax error Go's `encoding/json` decoder reports for `b`, in its words
/// (`invalid character '}' looking for beginning of object key string`, `unexpected EOF`).
fn go_json_syntax_error(b: &[u8]) -> Option<String> {
    let mut sc = Scan { b, i: 0 };
    match sc.value() {
        Ok(()) => None,
        Err(None) => Some("unexpected EOF".into()),
        Err(Some((c, ctx))) => Some(format!("invalid character {} {ctx}", go_quote_char(c))),
    }
}

/// Go's `quoteChar`.
fn go_quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        0x20..=0x7e => format!("'{}'", c as char),
        _ => {
            let q = format!("{:?}", char::from(c));
            format!("'{}'", q.trim_matches('\''))
        }
    }
}

/// A JSON syntax check; `Err(None)` is a premature end, `Err(Some((byte, context)))` a bad byte.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

type ScanResult = Result<(), Option<(u8, String)>>;

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn next_or_eof(&mut self) -> Result<u8, Option<(u8, String)>> {
        let c = self.peek().ok_or(None)?;
        self.i += 1;
        Ok(c)
    }

    fn value(&mut self) -> ScanResult {
        self.ws();
        match self.next_or_eof()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string(),
            b'-' => match self.next_or_eof()? {
                c if c.is_ascii_digit() => self.number(),
                c => Err(Some((c, "in numeric literal".into()))),
            },
            c if c.is_ascii_digit() => self.number(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            c => Err(Some((c, "looking for beginning of value".into()))),
        }
    }

    fn object(&mut self) -> ScanResult {
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            match self.next_or_eof()? {
                b'"' => self.string()?,
                c => return Err(Some((c, "looking for beginning of object key string".into()))),
            }
            self.ws();
            match self.next_or_eof()? {
                b':' => {}
                c => return Err(Some((c, "after object key".into()))),
            }
            self.value()?;
            self.ws();
            match self.next_or_eof()? {
                b',' => continue,
                b'}' => return Ok(()),
                c => return Err(Some((c, "after object key:value pair".into()))),
            }
        }
    }

    fn array(&mut self) -> ScanResult {
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value()?;
            self.ws();
            match self.next_or_eof()? {
                b',' => continue,
                b']' => return Ok(()),
                c => return Err(Some((c, "after array element".into()))),
            }
        }
    }

    fn string(&mut self) -> ScanResult {
        loop {
            match self.next_or_eof()? {
                b'"' => return Ok(()),
                b'\\' => match self.next_or_eof()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            let c = self.next_or_eof()?;
                            if !c.is_ascii_hexdigit() {
                                return Err(Some((
                                    c,
                                    "in \\u hexadecimal character escape".into(),
                                )));
                            }
                        }
                    }
                    c => return Err(Some((c, "in string escape code".into()))),
                },
                c if c < 0x20 => return Err(Some((c, "in string literal".into()))),
                _ => {}
            }
        }
    }

    fn number(&mut self) -> ScanResult {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            match self.next_or_eof()? {
                c if c.is_ascii_digit() => {}
                c => return Err(Some((c, "after decimal point in numeric literal".into()))),
            }
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            match self.next_or_eof()? {
                c if c.is_ascii_digit() => {}
                c => return Err(Some((c, "in exponent of numeric literal".into()))),
            }
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        Ok(())
    }

    /// The rest of `word` after its first byte; Go names the byte it expected.
    fn literal(&mut self, word: &str) -> ScanResult {
        for &want in &word.as_bytes()[1..] {
            let c = self.next_or_eof()?;
            if c != want {
                return Err(Some((c, format!("in literal {word} (expecting '{}')", want as char))));
            }
        }
        Ok(())
    }
}

/// The JSON kind as Go's decoder names it in "cannot unmarshal X into ...".
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn unmarshal_error(param: &str, v: &Value, go_type: &str) -> OpenApiError {
    OpenApiError::parse(
        param,
        &format!("json: cannot unmarshal {} into Go value of type {go_type}", kind(v)),
    )
}

/// `strfmt.DateTime` decoding: a string that none of go-openapi's layouts parses fails the
/// whole body with Go's error for the last layout tried.
fn check_time(param: &str, v: &Value) -> Result<(), OpenApiError> {
    match v {
        Value::String(s) if !s.is_empty() && alertmanager::timefmt::parse_api(s).is_none() => {
            Err(OpenApiError::parse(param, &go_time_error(s)))
        }
        _ => Ok(()),
    }
}

/// Go's `time.Parse("2006-01-02 15:04:05", s)` error, the last layout go-openapi tries:
/// the first element or literal that does not match ("cannot parse REST as ELEM"), a field
/// out of range, or extra text.
fn go_time_error(s: &str) -> String {
    const LAYOUT: &str = "2006-01-02 15:04:05";
    let cannot = |rest: &str, elem: &str| {
        format!("parsing time {s:?} as \"{LAYOUT}\": cannot parse {rest:?} as {elem:?}")
    };
    let range = |what: &str| format!("parsing time {s:?}: {what} out of range");
    let mut v = s;
    if v.len() < 4 || !v.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        return cannot(v, "2006");
    }
    let year: i32 = v[..4].parse().unwrap_or(0);
    v = &v[4..];
    let mut fields = [0u32; 5];
    // (literal before, element, fixed width, largest value, range name)
    let steps: [(&str, &str, bool, u32, &str); 5] = [
        ("-", "01", true, 12, "month"),
        ("-", "02", true, 31, "day"),
        (" ", "15", false, 23, "hour"),
        (":", "04", true, 59, "minute"),
        (":", "05", true, 59, "second"),
    ];
    for (i, (lit, elem, fixed, max, name)) in steps.into_iter().enumerate() {
        match skip_literal(v, lit) {
            Some(rest) => v = rest,
            None => return cannot(v, lit),
        }
        let b = v.as_bytes();
        let digits = if b.first().is_some_and(u8::is_ascii_digit) {
            if b.get(1).is_some_and(u8::is_ascii_digit) { 2 } else { 1 }
        } else {
            0
        };
        if digits == 0 || (fixed && digits < 2) {
            return cannot(v, elem);
        }
        let n: u32 = v[..digits].parse().unwrap_or(0);
        if (name == "month" && n == 0) || n > max {
            return range(name);
        }
        fields[i] = n;
        v = &v[digits..];
    }
    let b = v.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'.' | b',') && b[1].is_ascii_digit() {
        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        v = &v[n..];
    }
    if !v.is_empty() {
        return format!("parsing time {s:?}: extra text: {v:?}");
    }
    let (month, day) = (fields[0], fields[1]);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days {
        return range("day");
    }
    format!("parsing time {s:?} as \"{LAYOUT}\": cannot parse {s:?} as \"2006\"")
}

/// Go's `skip`: a literal must match, a space matches any run of spaces (or none at the end).
fn skip_literal<'a>(v: &'a str, lit: &str) -> Option<&'a str> {
    if lit == " " {
        if !v.is_empty() && !v.starts_with(' ') {
            return None;
        }
        return Some(v.trim_start_matches(' '));
    }
    v.strip_prefix(lit)
}

/// Go's `UnmarshalTypeError` text for a field.
fn type_error(param: &str, v: &Value, field: &str, go_type: &str) -> OpenApiError {
    OpenApiError::parse(
        param,
        &format!(
            "json: cannot unmarshal {} into Go struct field {field} of type {go_type}",
            kind(v)
        ),
    )
}

/// A label set field: an object of strings (null is allowed for both).
fn label_set_types(param: &str, v: Option<&Value>, field: &str) -> Result<(), OpenApiError> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(m)) => match m.values().find(|x| !x.is_string() && !x.is_null()) {
            Some(bad) => Err(type_error(param, bad, field, "string")),
            None => Ok(()),
        },
        Some(other) => Err(type_error(param, other, field, "models.LabelSet")),
    }
}

fn string_type(
    param: &str,
    v: Option<&Value>,
    field: &str,
    go_type: &str,
) -> Result<(), OpenApiError> {
    match v {
        Some(x) if !x.is_string() && !x.is_null() => Err(type_error(param, x, field, go_type)),
        _ => Ok(()),
    }
}

/// One `postableAlert` as Go decodes it: its allOf parts in turn (the anonymous part with
/// annotations and times, then `Alert` with generatorURL and labels).
fn alert_types(a: &Value) -> Result<(), OpenApiError> {
    let o = match a {
        Value::Object(o) => o,
        Value::Null => return Ok(()),
        other => {
            return Err(unmarshal_error(
                "alerts",
                other,
                "struct { Annotations models.LabelSet \"json:\\\"annotations,omitempty\\\"\"; \
                 EndsAt strfmt.DateTime \"json:\\\"endsAt,omitempty\\\"\"; \
                 StartsAt strfmt.DateTime \"json:\\\"startsAt,omitempty\\\"\" }",
            ));
        }
    };
    label_set_types("alerts", o.get("annotations"), ".annotations")?;
    for k in ["endsAt", "startsAt"] {
        string_type("alerts", o.get(k), &format!(".{k}"), "string")?;
    }
    for k in ["startsAt", "endsAt"] {
        check_time("alerts", o.get(k).unwrap_or(&Value::Null))?;
    }
    string_type("alerts", o.get("generatorURL"), "Alert.generatorURL", "strfmt.URI")?;
    label_set_types("alerts", o.get("labels"), "Alert.labels")
}

/// A `postableSilence` as Go decodes it: the id part, then `Silence` and its matchers.
fn silence_types(o: &serde_json::Map<String, Value>) -> Result<(), OpenApiError> {
    string_type("silence", o.get("id"), ".id", "string")?;
    for k in ["comment", "createdBy", "endsAt", "startsAt"] {
        string_type("silence", o.get(k), &format!("Silence.{k}"), "string")?;
    }
    match o.get("matchers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ms)) => {
            for m in ms {
                match m {
                    Value::Object(m) => {
                        for k in ["isEqual", "isRegex"] {
                            if let Some(x) = m.get(k).filter(|x| !x.is_boolean() && !x.is_null()) {
                                return Err(type_error(
                                    "silence",
                                    x,
                                    &format!("Matcher.matchers.{k}"),
                                    "bool",
                                ));
                            }
                        }
                        for k in ["name", "value"] {
                            string_type(
                                "silence",
                                m.get(k),
                                &format!("Matcher.matchers.{k}"),
                                "string",
                            )?;
                        }
                    }
                    Value::Null => {}
                    other => {
                        return Err(type_error(
                            "silence",
                            other,
                            "Silence.matchers",
                            "models.Matcher",
                        ));
                    }
                }
            }
        }
        Some(other) => {
            return Err(type_error("silence", other, "Silence.matchers", "models.Matchers"));
        }
    }
    for k in ["startsAt", "endsAt"] {
        check_time("silence", o.get(k).unwrap_or(&Value::Null))?;
    }
    Ok(())
}

/// A required field: absent or null.
fn present<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// The `postableAlerts` body: decoding, then each alert's `generatorURL` (a request URI when
/// set) and `labels` (required), the first error only.
pub fn check_alerts(body: &[u8]) -> Result<Value, OpenApiError> {
    let v = decode("alerts", body)?;
    let list = match &v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => return Err(unmarshal_error("alerts", other, "models.PostableAlerts")),
    };
    for a in &list {
        alert_types(a)?;
    }
    for (i, a) in list.iter().enumerate() {
        let Value::Object(o) = a else { continue };
        if let Some(Value::String(u)) = o.get("generatorURL")
            && !u.is_empty()
            && !is_request_uri(u)
        {
            return Err(OpenApiError::format(&format!("{i}.generatorURL"), "body", "uri", u));
        }
        if present(o, "labels").is_none() {
            return Err(OpenApiError::required(&format!("{i}.labels"), "body"));
        }
    }
    Ok(Value::Array(list))
}

/// The `postableSilence` body: decoding, then the required fields in go-openapi's order
/// (comment, createdBy, endsAt, matchers with at least one item, each matcher's isRegex,
/// name and value, startsAt).
pub fn check_silence(body: &[u8]) -> Result<Value, OpenApiError> {
    let v = decode("silence", body)?;
    let o = match &v {
        Value::Object(o) => o.clone(),
        Value::Null => serde_json::Map::new(),
        // PostableSilence decodes its allOf parts in turn; the first is an anonymous struct.
        other => {
            return Err(unmarshal_error(
                "silence",
                other,
                "struct { ID string \"json:\\\"id,omitempty\\\"\" }",
            ));
        }
    };
    silence_types(&o)?;
    for k in ["comment", "createdBy", "endsAt"] {
        if present(&o, k).is_none() {
            return Err(OpenApiError::required(k, "body"));
        }
    }
    let matchers = match present(&o, "matchers") {
        None => return Err(OpenApiError::required("matchers", "body")),
        Some(Value::Array(m)) => m,
        Some(_) => return Ok(Value::Object(o)),
    };
    if matchers.is_empty() {
        return Err(OpenApiError::new(612, "matchers in body should have at least 1 items".into()));
    }
    for (i, m) in matchers.iter().enumerate() {
        let Value::Object(m) = m else { continue };
        for k in ["isRegex", "name", "value"] {
            if present(m, k).is_none() {
                return Err(OpenApiError::required(&format!("matchers.{i}.{k}"), "body"));
            }
        }
    }
    if present(&o, "startsAt").is_none() {
        return Err(OpenApiError::required("startsAt", "body"));
    }
    Ok(Value::Object(o))
}

/// The `silenceID` path parameter: go-openapi's `uuid` format (hex groups 8-4-4-4-12, dashes
/// optional, any case).
pub fn check_silence_id(id: &str) -> Result<(), OpenApiError> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let groups_ok = {
        let mut rest = id;
        let mut ok = true;
        for (n, len) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
            let digits: usize = rest.chars().take_while(char::is_ascii_hexdigit).count();
            if digits < len {
                ok = false;
                break;
            }
            rest = &rest[len..];
            if n < 4 {
                rest = rest.strip_prefix('-').unwrap_or(rest);
            }
        }
        ok && rest.is_empty()
    };
    if groups_ok && hex.len() == 32 {
        Ok(())
    } else {
        Err(OpenApiError::format("silenceID", "path", "uuid", id))
    }
}

/// go-openapi's `uri` format is govalidator's IsRequestURI, Go's `url.ParseRequestURI`: an
/// absolute URI (a scheme) or an absolute path, no control characters, valid `%` escapes.
pub fn is_request_uri(s: &str) -> bool {
    if s.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f) || !valid_escapes(s) {
        return false;
    }
    if s.starts_with('/') {
        return true;
    }
    let Some(colon) = s.find(':') else { return false };
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
        return false;
    }
    let rest = &s[colon + 1..];
    match rest.strip_prefix("//") {
        Some(auth) => {
            let host = auth.split(['/', '?']).next().unwrap_or("");
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            !host.contains([' ', '<', '>', '"', '{', '}', '|', '\\', '^', '`'])
        }
        None => true,
    }
}

fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_bodies_fail_on_the_first_field_in_go_openapi_order() {
        let err = |b: &str| check_silence(b.as_bytes()).unwrap_err();
        assert_eq!(err("{}").message, "comment in body is required");
        assert_eq!(err("").message, "silence in body is required");
        assert_eq!(
            err("{").message,
            "parsing silence body from \"\" failed, because unexpected EOF"
        );
        let base = r#""comment":"c","createdBy":"u","startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-02T00:00:00Z""#;
        let e = err(&format!("{{{base},\"matchers\":[]}}"));
        assert_eq!(
            (e.code, e.message.as_str()),
            (612, "matchers in body should have at least 1 items")
        );
        let e = err(&format!("{{{base},\"matchers\":[{{\"name\":\"a\",\"value\":\"b\"}}]}}"));
        assert_eq!((e.code, e.message.as_str()), (602, "matchers.0.isRegex in body is required"));
        let e = err(&format!("{{{base},\"matchers\":[{{\"name\":\"a\",\"isRegex\":true}}]}}"));
        assert_eq!(e.message, "matchers.0.value in body is required");
        let ok = format!(
            "{{{base},\"matchers\":[{{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}}]}}"
        );
        assert!(check_silence(ok.as_bytes()).is_ok());
        let go = |t: &str| go_time_error(t).split_once(": ").map(|x| x.1.to_string()).unwrap();
        assert_eq!(go("2030-01-01T00:00:01+0100"), "cannot parse \"T00:00:01+0100\" as \" \"");
        assert_eq!(go("2030-01-01"), "cannot parse \"\" as \"15\"");
        assert_eq!(go("2030-13-01 00:00:00"), "month out of range");
        assert_eq!(go("2030-02-30 00:00:00"), "day out of range");
        assert_eq!(go("2030-01-01 00:00:00Z"), "extra text: \"Z\"");
        let bad_time = ok.replace("2030-01-02T00:00:00Z", "tomorrow");
        assert_eq!(
            err(&bad_time).message,
            "parsing silence body from \"\" failed, because parsing time \"tomorrow\" as \"2006-01-02 15:04:05\": cannot parse \"tomorrow\" as \"2006\""
        );
    }

    #[test]
    fn json_syntax_errors_in_go_words() {
        let go = |b: &str| go_json_syntax_error(b.as_bytes());
        assert_eq!(go("{"), Some("unexpected EOF".into()));
        assert_eq!(
            go(r#"{"a": 1,}"#),
            Some("invalid character '}' looking for beginning of object key string".into())
        );
        assert_eq!(go("[1 2]"), Some("invalid character '2' after array element".into()));
        assert_eq!(go(r#"{"a" 1}"#), Some("invalid character '1' after object key".into()));
        assert_eq!(
            go(r#"{"a": 1 "b"}"#),
            Some("invalid character '\"' after object key:value pair".into())
        );
        assert_eq!(go("[] x"), None, "what follows the first value is not read");
        assert_eq!(
            go("nope"),
            Some("invalid character 'o' in literal null (expecting 'u')".into())
        );
        assert_eq!(
            go("'a'"),
            Some("invalid character '\\'' looking for beginning of value".into())
        );
        assert_eq!(go(r#"[{"labels": {"a": "b"}}]"#), None);
    }

    #[test]
    fn wrongly_typed_fields_in_go_words() {
        let msg = |p: &str, b: &str| {
            let e = if p == "alerts" {
                check_alerts(b.as_bytes())
            } else {
                check_silence(b.as_bytes())
            };
            e.unwrap_err().message.rsplit_once("because ").unwrap().1.to_string()
        };
        let field = |f: &str, k: &str, t: &str| {
            format!("json: cannot unmarshal {k} into Go struct field {f} of type {t}")
        };
        assert_eq!(
            msg("alerts", r#"[{"labels": {"a": 5}}]"#),
            field("Alert.labels", "number", "string")
        );
        assert_eq!(
            msg("alerts", r#"[{"labels": 5}]"#),
            field("Alert.labels", "number", "models.LabelSet")
        );
        assert_eq!(
            msg("alerts", r#"[{"labels":{"a":"b"},"startsAt":5}]"#),
            field(".startsAt", "number", "string")
        );
        assert_eq!(
            msg("alerts", r#"[{"labels":{"a":"b"},"annotations":{"x":1}}]"#),
            field(".annotations", "number", "string")
        );
        assert!(msg("alerts", "[5]").starts_with(
            "json: cannot unmarshal number into Go value of type struct { Annotations"
        ));
        assert_eq!(
            msg("silence", r#"{"comment":5}"#),
            field("Silence.comment", "number", "string")
        );
        assert_eq!(
            msg("silence", r#"{"matchers":"x"}"#),
            field("Silence.matchers", "string", "models.Matchers")
        );
        assert_eq!(
            msg("silence", r#"{"matchers":[{"name":"a","value":"b","isRegex":"no"}]}"#),
            field("Matcher.matchers.isRegex", "string", "bool")
        );
    }

    #[test]
    fn alert_bodies() {
        let err = |b: &str| check_alerts(b.as_bytes()).unwrap_err();
        assert_eq!(err("[{}]").message, "0.labels in body is required");
        assert_eq!(
            err("{}").message,
            "parsing alerts body from \"\" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts"
        );
        let e = err(r#"[{"labels":{"a":"b"}},{"labels":{"a":"b"},"generatorURL":"not a url"}]"#);
        assert_eq!(
            (e.code, e.message.as_str()),
            (601, "1.generatorURL in body must be of type uri: \"not a url\"")
        );
        assert!(check_alerts(br#"[{"labels":{}}]"#).is_ok(), "an empty label set is the handler's");
        assert!(check_alerts(b"null").is_ok());
    }

    #[test]
    fn request_uris_and_uuids() {
        for ok in ["http://prom:9090/graph?g0.expr=up", "/graph", "mailto:x@y", "http://h/%41"] {
            assert!(is_request_uri(ok), "{ok}");
        }
        for bad in ["not a url", "graph", "http://a b/", "http://h/%zz", "1http://h", ":x"] {
            assert!(!is_request_uri(bad), "{bad}");
        }
        for ok in ["00000000-0000-4000-8000-00000000000A", "00000000000040008000000000000000"] {
            assert!(check_silence_id(ok).is_ok(), "{ok}");
        }
        let e = check_silence_id("nope").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (601, "silenceID in path must be of type uuid: \"nope\"")
        );
        assert!(check_silence_id("00000000-0000-4000-8000-0000000000000").is_err());
    }
}
