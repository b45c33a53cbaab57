//! The loaded config as Alertmanager 0.25 shows it (`config.original` in `/api/v2/status`,
//! `amtool config show`): its Go `config.Config` marshalled by yaml.v2, fields in Go struct
//! order, defaults filled in, secrets as `<secret>`, relative file paths joined to the config
//! file's directory.

use std::collections::BTreeMap;

use serde_json::Value;

use super::goyaml::{self, Node};
use super::http::{Authorization, BasicAuth, HttpConfig, OAuth2, TlsConfig};
use super::receiver::{
    EmailConfig, OpsgenieConfig, PagerdutyConfig, ReceiverConfig, SlackConfig, WebhookConfig,
};
use super::show_other;
use super::time_interval::{
    NamedTimeInterval, RangeKind, TimeIntervalConfig, WEEKDAYS, parse_hhmm, parse_ranges,
};
use super::{Config, DEFAULT_OPSGENIE_URL, DEFAULT_PAGERDUTY_URL, GlobalConfig, RouteConfig};
use super::{Duration, InhibitRuleConfig};

pub(super) const SECRET: &str = "<secret>";

/// Builds a mapping, leaving out the `None` fields (Go's `omitempty`).
#[derive(Default)]
pub(super) struct MapBuilder(Vec<(String, Node)>);

impl MapBuilder {
    pub(super) fn put(mut self, k: &str, v: Node) -> Self {
        self.0.push((k.to_string(), v));
        self
    }

    pub(super) fn opt(self, k: &str, v: Option<Node>) -> Self {
        match v {
            Some(v) => self.put(k, v),
            None => self,
        }
    }

    /// A Go string field with `omitempty`.
    pub(super) fn s(self, k: &str, v: Option<&str>) -> Self {
        let v = v.filter(|s| !s.is_empty()).map(Node::str);
        self.opt(k, v)
    }

    /// A Go `Secret` with `omitempty`.
    pub(super) fn secret(self, k: &str, v: Option<&str>) -> Self {
        let v = v.filter(|s| !s.is_empty()).map(|_| Node::str(SECRET));
        self.opt(k, v)
    }

    pub(super) fn seq(self, k: &str, v: Vec<Node>) -> Self {
        let v = (!v.is_empty()).then_some(Node::Seq(v));
        self.opt(k, v)
    }

    pub(super) fn map(self, k: &str, v: &BTreeMap<String, String>) -> Self {
        let v = (!v.is_empty()).then(|| Node::string_map(v));
        self.opt(k, v)
    }

    pub(super) fn build(self) -> Node {
        Node::Map(self.0)
    }
}

fn strs(v: &[String]) -> Vec<Node> {
    v.iter().map(|s| Node::str(s.as_str())).collect()
}

fn dur(d: Duration) -> Node {
    Node::str(model::duration::format_duration(d.0))
}

/// `filepath.Join(dir, p)` for a relative `p` (as Alertmanager's `resolveFilepaths`).
fn join_dir(dir: &str, p: &str) -> String {
    if p.is_empty() || dir.is_empty() || p.starts_with('/') {
        return p.to_string();
    }
    clean_path(&format!("{dir}/{p}"))
}

/// Go's `filepath.Clean` for the paths a config names.
fn clean_path(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The directory of the config file, as `filepath.Dir`.
fn config_dir(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => clean_path(&path[..i]),
        None => ".".to_string(),
    }
}

fn tls(t: &TlsConfig, dir: &str) -> Node {
    MapBuilder::default()
        .s("ca_file", t.ca_file.as_deref().map(|p| join_dir(dir, p)).as_deref())
        .s("cert_file", t.cert_file.as_deref().map(|p| join_dir(dir, p)).as_deref())
        .s("key_file", t.key_file.as_deref().map(|p| join_dir(dir, p)).as_deref())
        .s("server_name", t.server_name.as_deref())
        .put("insecure_skip_verify", Node::bool(t.insecure_skip_verify))
        .opt("min_version", t.min_version.as_deref().and_then(tls_version))
        .opt("max_version", t.max_version.as_deref().and_then(tls_version))
        .build()
}

/// common's `TLSVersion` is a `uint16` without a YAML marshaller: it prints as a number.
fn tls_version(v: &str) -> Option<Node> {
    let n = match v {
        "TLS10" => 0x0301,
        "TLS11" => 0x0302,
        "TLS12" => 0x0303,
        "TLS13" => 0x0304,
        _ => return None,
    };
    Some(Node::Plain(n.to_string()))
}

/// A `TLSConfig` value field with `omitempty`: left out when every field is zero.
fn tls_opt(t: Option<&TlsConfig>, dir: &str) -> Option<Node> {
    let t = t?;
    let empty =
        [&t.ca_file, &t.cert_file, &t.key_file, &t.server_name, &t.min_version, &t.max_version]
            .iter()
            .all(|f| f.as_deref().unwrap_or("").is_empty())
            && !t.insecure_skip_verify;
    (!empty).then(|| tls(t, dir))
}

fn basic_auth(b: &BasicAuth, dir: &str) -> Node {
    MapBuilder::default()
        .put("username", Node::str(b.username.as_str()))
        .secret("password", b.password.as_deref())
        .s("password_file", b.password_file.as_deref().map(|p| join_dir(dir, p)).as_deref())
        .build()
}

fn authorization(a: &Authorization, dir: &str) -> Node {
    let kind = a.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()).unwrap_or("Bearer");
    MapBuilder::default()
        .put("type", Node::str(kind))
        .secret("credentials", a.credentials.as_deref())
        .s("credentials_file", a.credentials_file.as_deref().map(|p| join_dir(dir, p)).as_deref())
        .build()
}

fn oauth2(o: &OAuth2, dir: &str) -> Node {
    let secret = match o.client_secret.as_deref() {
        Some(s) if !s.is_empty() => Node::str(SECRET),
        _ => Node::Plain("null".into()),
    };
    let secret_file = o.client_secret_file.as_deref().map(|p| join_dir(dir, p)).unwrap_or_default();
    let params: BTreeMap<String, String> = o.endpoint_params.clone();
    MapBuilder::default()
        .put("client_id", Node::str(o.client_id.as_str()))
        .put("client_secret", secret)
        .put("client_secret_file", Node::str(secret_file))
        .seq("scopes", strs(&o.scopes))
        .put("token_url", Node::str(o.token_url.as_str()))
        .map("endpoint_params", &params)
        .s("proxy_url", o.proxy_url.as_deref())
        .opt("tls_config", tls_opt(o.tls_config.as_ref(), dir))
        .build()
}

/// `HTTPClientConfig` after `Validate`: bearer tokens become an `authorization`.
pub(super) fn http(h: Option<&HttpConfig>, dir: &str) -> Node {
    let default = HttpConfig::default();
    let h = h.unwrap_or(&default);
    let mut auth = h.authorization.clone();
    if auth.is_none() {
        if let Some(t) = h.bearer_token.as_deref().filter(|t| !t.is_empty()) {
            auth = Some(Authorization { credentials: Some(t.to_string()), ..Default::default() });
        }
        if let Some(f) = h.bearer_token_file.as_deref().filter(|f| !f.is_empty()) {
            auth =
                Some(Authorization { credentials_file: Some(f.to_string()), ..Default::default() });
        }
    }
    MapBuilder::default()
        .opt("basic_auth", h.basic_auth.as_ref().map(|b| basic_auth(b, dir)))
        .opt("authorization", auth.as_ref().map(|a| authorization(a, dir)))
        .opt("oauth2", h.oauth2.as_ref().map(|o| oauth2(o, dir)))
        .s("proxy_url", h.proxy_url.as_deref().map(go_url).as_deref())
        .opt("tls_config", tls_opt(h.tls_config.as_ref(), dir))
        .put("follow_redirects", Node::bool(h.follow_redirects.unwrap_or(true)))
        .put("enable_http2", Node::bool(h.enable_http2.unwrap_or(true)))
        .build()
}

/// Go's `HostPort.String()` after `net.SplitHostPort`.
fn host_port(s: &str) -> String {
    let Some(i) = s.rfind(':') else { return s.to_string() };
    let (host, port) = (&s[..i], &s[i + 1..]);
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    format!("{host}:{port}")
}

/// Go's `url.URL.String()` after `url.Parse`: the scheme lowercased and a path that is not
/// validly escaped escaped again (query, fragment and host are kept as written).
pub(super) fn go_url(u: &str) -> String {
    let Some(colon) = u.find("://") else { return u.to_string() };
    let scheme = u[..colon].to_ascii_lowercase();
    let rest = &u[colon + 3..];
    let path_at = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(path_at);
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, after) = tail.split_at(path_end);
    format!("{scheme}://{host}{}{after}", escaped_path(path))
}

fn path_byte_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b)
}

fn escaped_path(path: &str) -> String {
    let valid = path.bytes().all(|b| path_byte_ok(b) || b"!'()*[]%".contains(&b));
    if valid {
        return path.to_string();
    }
    let raw = percent_decode(path);
    raw.iter()
        .map(|&b| if path_byte_ok(b) { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(v) if b[i] == b'%' => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// Appends `/` to a URL's path, as Alertmanager does for OpsGenie's API URL.
pub(super) fn with_slash(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (base, rest) = url.split_at(end);
    let path_start =
        base.find("://").map(|i| i + 3).and_then(|i| base[i..].find('/').map(|j| i + j));
    match path_start {
        Some(p) if base[p..].ends_with('/') => url.to_string(),
        _ => format!("{base}/{rest}"),
    }
}

fn global(g: &GlobalConfig, dir: &str, opsgenie_inherits: bool) -> Node {
    let url = |v: &Option<String>, d: &str| Node::str(go_url(v.as_deref().unwrap_or(d)));
    let opsgenie = g.opsgenie_api_url.clone().unwrap_or_else(|| DEFAULT_OPSGENIE_URL.into());
    let opsgenie = go_url(&opsgenie);
    let opsgenie = if opsgenie_inherits { with_slash(&opsgenie) } else { opsgenie };
    MapBuilder::default()
        .put(
            "resolve_timeout",
            dur(g.resolve_timeout.unwrap_or(Duration(super::DEFAULT_RESOLVE_TIMEOUT_MS))),
        )
        .put("http_config", http(g.http_config.as_ref(), dir))
        .s("smtp_from", g.smtp_from.as_deref())
        .s("smtp_hello", Some(g.smtp_hello.as_deref().unwrap_or("localhost")))
        .s("smtp_smarthost", g.smtp_smarthost.as_deref().map(host_port).as_deref())
        .s("smtp_auth_username", g.smtp_auth_username.as_deref())
        .secret("smtp_auth_password", g.smtp_auth_password.as_deref())
        .s("smtp_auth_password_file", g.smtp_auth_password_file.as_deref())
        .secret("smtp_auth_secret", g.smtp_auth_secret.as_deref())
        .s("smtp_auth_identity", g.smtp_auth_identity.as_deref())
        .put("smtp_require_tls", Node::bool(g.smtp_require_tls.unwrap_or(true)))
        .secret("slack_api_url", g.slack_api_url.as_deref())
        .s("slack_api_url_file", g.slack_api_url_file.as_deref())
        .put("pagerduty_url", url(&g.pagerduty_url, DEFAULT_PAGERDUTY_URL))
        .put("opsgenie_api_url", Node::str(opsgenie))
        .secret("opsgenie_api_key", g.opsgenie_api_key.as_deref())
        .s("opsgenie_api_key_file", g.opsgenie_api_key_file.as_deref())
        .put("wechat_api_url", url(&g.wechat_api_url, "https://qyapi.weixin.qq.com/cgi-bin/"))
        .secret("wechat_api_secret", g.wechat_api_secret.as_deref())
        .s("wechat_api_corp_id", g.wechat_api_corp_id.as_deref())
        .put(
            "victorops_api_url",
            url(
                &g.victorops_api_url,
                "https://alert.victorops.com/integrations/generic/20131114/alert/",
            ),
        )
        .secret("victorops_api_key", g.victorops_api_key.as_deref())
        .s("victorops_api_key_file", g.victorops_api_key_file.as_deref())
        .put("telegram_api_url", url(&g.telegram_api_url, "https://api.telegram.org"))
        .put("webex_api_url", url(&g.webex_api_url, "https://webexapis.com/v1/messages"))
        .build()
}

/// Alertmanager's sorted matchers, each as `name="value"`.
fn matchers(lines: &[String]) -> Vec<Node> {
    let mut all = crate::matchers::Matchers::default();
    for line in lines {
        if let Ok(ms) = crate::matchers::parse_matchers(line) {
            all.0.extend(ms.0);
        }
    }
    all.sort();
    all.0.iter().map(|m| Node::str(crate::matchers::matcher_string(m))).collect()
}

/// A `MatchRegexps` map: an empty regex marshals as `null`.
fn match_re(m: &BTreeMap<String, String>) -> Option<Node> {
    if m.is_empty() {
        return None;
    }
    let mut entries: Vec<(String, Node)> = m
        .iter()
        .map(|(k, v)| {
            let n = if v.is_empty() { Node::Plain("null".into()) } else { Node::str(v.as_str()) };
            (k.clone(), n)
        })
        .collect();
    entries.sort_by(|a, b| goyaml::key_order(&a.0, &b.0));
    Some(Node::Map(entries))
}

fn route(r: &RouteConfig) -> Node {
    MapBuilder::default()
        .s("receiver", r.receiver.as_deref())
        .seq("group_by", r.group_by.as_deref().map(strs).unwrap_or_default())
        .map("match", &r.match_)
        .opt("match_re", match_re(&r.match_re))
        .seq("matchers", matchers(&r.matchers))
        .seq("mute_time_intervals", strs(&r.mute_time_intervals))
        .seq("active_time_intervals", strs(&r.active_time_intervals))
        .put("continue", Node::bool(r.continue_))
        .seq("routes", r.routes.iter().map(route).collect())
        .opt("group_wait", r.group_wait.map(dur))
        .opt("group_interval", r.group_interval.map(dur))
        .opt("repeat_interval", r.repeat_interval.map(dur))
        .build()
}

fn inhibit_rule(r: &InhibitRuleConfig) -> Node {
    MapBuilder::default()
        .map("source_match", &r.source_match)
        .opt("source_match_re", match_re(&r.source_match_re))
        .seq("source_matchers", matchers(&r.source_matchers))
        .map("target_match", &r.target_match)
        .opt("target_match_re", match_re(&r.target_match_re))
        .seq("target_matchers", matchers(&r.target_matchers))
        .seq("equal", strs(&r.equal))
        .build()
}

/// A field with a default: unset takes the default, set to "" is left out.
fn or_default<'a>(v: &'a Option<String>, d: &'a str) -> Option<&'a str> {
    Some(v.as_deref().unwrap_or(d))
}

fn webhook(w: &WebhookConfig, dir: &str) -> Node {
    MapBuilder::default()
        .put("send_resolved", Node::bool(w.send_resolved))
        .opt("http_config", Some(http(w.http_config.as_ref(), dir)))
        .put("url", w.url.as_deref().map_or(Node::Plain("null".into()), |u| Node::str(go_url(u))))
        .put("max_alerts", Node::Plain(w.max_alerts.to_string()))
        .build()
}

/// `textproto.CanonicalMIMEHeaderKey`.
fn canonical_header(k: &str) -> String {
    let valid = k.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid || k.is_empty() {
        return k.to_string();
    }
    let mut upper = true;
    k.chars()
        .map(|c| {
            let out = if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
            upper = c == '-';
            out
        })
        .collect()
}

/// An email config; the notifier Alertmanager builds for a receiver a route uses adds the
/// default `Subject`, `To` and `From` headers to the loaded config.
fn email(e: &EmailConfig, used: bool) -> Node {
    let mut headers: BTreeMap<String, String> =
        e.headers.iter().map(|(k, v)| (canonical_header(k), v.clone())).collect();
    if used {
        let from = e.from.clone().unwrap_or_default();
        headers
            .entry("Subject".into())
            .or_insert_with(|| r#"{{ template "email.default.subject" . }}"#.into());
        headers.entry("To".into()).or_insert_with(|| e.to.clone());
        headers.entry("From".into()).or_insert(from);
    }
    MapBuilder::default()
        .put("send_resolved", Node::bool(e.send_resolved))
        .s("to", Some(&e.to))
        .s("from", e.from.as_deref())
        .s("hello", e.hello.as_deref())
        .s("smarthost", e.smarthost.as_deref().map(host_port).as_deref())
        .s("auth_username", e.auth_username.as_deref())
        .secret("auth_password", e.auth_password.as_deref())
        .s("auth_password_file", e.auth_password_file.as_deref())
        .secret("auth_secret", e.auth_secret.as_deref())
        .s("auth_identity", e.auth_identity.as_deref())
        .map("headers", &headers)
        .s("html", or_default(&e.html, r#"{{ template "email.default.html" . }}"#))
        .s("text", e.text.as_deref())
        .opt("require_tls", e.require_tls.map(Node::bool))
        .opt("tls_config", tls_opt(e.tls_config.as_ref(), ""))
        .build()
}

fn json_str<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn json_fields(v: &Value, keys: &[&str]) -> Node {
    keys.iter().fold(MapBuilder::default(), |m, k| m.s(k, json_str(v, k))).build()
}

fn pagerduty(p: &PagerdutyConfig, dir: &str) -> Node {
    let mut details = p.details.clone();
    for (k, v) in [
        ("firing", r#"{{ template "pagerduty.default.instances" .Alerts.Firing }}"#),
        ("resolved", r#"{{ template "pagerduty.default.instances" .Alerts.Resolved }}"#),
        ("num_firing", "{{ .Alerts.Firing | len }}"),
        ("num_resolved", "{{ .Alerts.Resolved | len }}"),
    ] {
        details.entry(k.into()).or_insert_with(|| v.into());
    }
    let client = or_default(&p.client, r#"{{ template "pagerduty.default.client" . }}"#);
    let source = p.source.as_deref().filter(|s| !s.is_empty()).or(client);
    let images = p.images.iter().map(|i| json_fields(i, &["src", "alt", "href"])).collect();
    let links = p.links.iter().map(|l| json_fields(l, &["href", "text"])).collect();
    MapBuilder::default()
        .put("send_resolved", Node::bool(p.send_resolved))
        .opt("http_config", Some(http(p.http_config.as_ref(), dir)))
        .secret("service_key", p.service_key.as_deref())
        .s("service_key_file", p.service_key_file.as_deref())
        .secret("routing_key", p.routing_key.as_deref())
        .s("routing_key_file", p.routing_key_file.as_deref())
        .s("url", p.url.as_deref().map(go_url).as_deref())
        .s("client", client)
        .s(
            "client_url",
            or_default(&p.client_url, r#"{{ template "pagerduty.default.clientURL" . }}"#),
        )
        .s(
            "description",
            or_default(&p.description, r#"{{ template "pagerduty.default.description" .}}"#),
        )
        .map("details", &details)
        .seq("images", images)
        .seq("links", links)
        .s("source", source)
        .s("severity", p.severity.as_deref())
        .s("class", p.class.as_deref())
        .s("component", p.component.as_deref())
        .s("group", p.group.as_deref())
        .build()
}

fn slack_action(a: &Value) -> Node {
    let has_url = json_str(a, "url").is_some_and(|u| !u.is_empty());
    let m = MapBuilder::default()
        .s("type", json_str(a, "type"))
        .s("text", json_str(a, "text"))
        .s("url", json_str(a, "url"))
        .s("style", json_str(a, "style"));
    if has_url {
        return m.build();
    }
    let confirm = a
        .get("confirm")
        .filter(|c| c.is_object())
        .map(|c| json_fields(c, &["text", "title", "ok_text", "dismiss_text"]));
    m.s("name", json_str(a, "name"))
        .s("value", json_str(a, "value"))
        .opt("confirm", confirm)
        .build()
}

fn slack(s: &SlackConfig, dir: &str) -> Node {
    let t = |v: &Option<String>, name: &str| -> Option<String> {
        Some(v.clone().unwrap_or_else(|| format!("{{{{ template \"slack.default.{name}\" . }}}}")))
    };
    let fields = s
        .fields
        .iter()
        .map(|f| {
            MapBuilder::default()
                .s("title", Some(&f.title))
                .s("value", Some(&f.value))
                .opt("short", f.short.map(Node::bool))
                .build()
        })
        .collect();
    let color =
        or_default(&s.color, r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#);
    MapBuilder::default()
        .put("send_resolved", Node::bool(s.send_resolved))
        .opt("http_config", Some(http(s.http_config.as_ref(), dir)))
        .secret("api_url", s.api_url.as_deref())
        .s("api_url_file", s.api_url_file.as_deref())
        .s("channel", s.channel.as_deref())
        .s("username", t(&s.username, "username").as_deref())
        .s("color", color)
        .s("title", t(&s.title, "title").as_deref())
        .s("title_link", t(&s.title_link, "titlelink").as_deref())
        .s("pretext", t(&s.pretext, "pretext").as_deref())
        .s("text", t(&s.text, "text").as_deref())
        .seq("fields", fields)
        .put("short_fields", Node::bool(s.short_fields))
        .s("footer", t(&s.footer, "footer").as_deref())
        .s("fallback", t(&s.fallback, "fallback").as_deref())
        .s("callback_id", t(&s.callback_id, "callbackid").as_deref())
        .s("icon_emoji", t(&s.icon_emoji, "iconemoji").as_deref())
        .s("icon_url", t(&s.icon_url, "iconurl").as_deref())
        .s("image_url", s.image_url.as_deref())
        .s("thumb_url", s.thumb_url.as_deref())
        .put("link_names", Node::bool(s.link_names))
        .seq("mrkdwn_in", strs(&s.mrkdwn_in))
        .seq("actions", s.actions.iter().map(slack_action).collect())
        .build()
}

fn responder(r: &Value) -> Node {
    // Alertmanager lowercases the type of a copy: the loaded config keeps it as written.
    let kind = json_str(r, "type");
    MapBuilder::default()
        .s("id", json_str(r, "id"))
        .s("name", json_str(r, "name"))
        .s("username", json_str(r, "username"))
        .s("type", kind)
        .build()
}

fn opsgenie(o: &OpsgenieConfig, dir: &str) -> Node {
    let t = |v: &Option<String>, name: &str| -> Option<String> {
        Some(
            v.clone()
                .unwrap_or_else(|| format!("{{{{ template \"opsgenie.default.{name}\" . }}}}")),
        )
    };
    MapBuilder::default()
        .put("send_resolved", Node::bool(o.send_resolved))
        .opt("http_config", Some(http(o.http_config.as_ref(), dir)))
        .secret("api_key", o.api_key.as_deref())
        .s("api_key_file", o.api_key_file.as_deref())
        .s("api_url", o.api_url.as_deref().map(|u| with_slash(&go_url(u))).as_deref())
        .s("message", t(&o.message, "message").as_deref())
        .s("description", t(&o.description, "description").as_deref())
        .s("source", t(&o.source, "source").as_deref())
        .map("details", &o.details)
        .s("entity", o.entity.as_deref())
        .seq("responders", o.responders.iter().map(responder).collect())
        .s("actions", o.actions.as_deref())
        .s("tags", o.tags.as_deref())
        .s("note", o.note.as_deref())
        .s("priority", o.priority.as_deref())
        .opt("update_alerts", o.update_alerts.then(|| Node::bool(true)))
        .build()
}

fn other(list: &[Value], f: impl Fn(&Value) -> Node) -> Vec<Node> {
    list.iter().map(f).collect()
}

fn receiver(r: &ReceiverConfig, g: &GlobalConfig, dir: &str, used: bool) -> Node {
    MapBuilder::default()
        .put("name", Node::str(r.name.as_str()))
        .seq("discord_configs", other(&r.discord_configs, |v| show_other::discord(v, g, dir)))
        .seq("email_configs", r.email_configs.iter().map(|e| email(e, used)).collect())
        .seq("pagerduty_configs", r.pagerduty_configs.iter().map(|p| pagerduty(p, dir)).collect())
        .seq("slack_configs", r.slack_configs.iter().map(|s| slack(s, dir)).collect())
        .seq("webhook_configs", r.webhook_configs.iter().map(|w| webhook(w, dir)).collect())
        .seq("opsgenie_configs", r.opsgenie_configs.iter().map(|o| opsgenie(o, dir)).collect())
        .seq("wechat_configs", other(&r.wechat_configs, |v| show_other::wechat(v, g, dir)))
        .seq("pushover_configs", other(&r.pushover_configs, |v| show_other::pushover(v, g, dir)))
        .seq("victorops_configs", other(&r.victorops_configs, |v| show_other::victorops(v, g, dir)))
        .seq("sns_configs", other(&r.sns_configs, |v| show_other::sns(v, g, dir)))
        .seq("telegram_configs", other(&r.telegram_configs, |v| show_other::telegram(v, g, dir)))
        .seq("webex_configs", other(&r.webex_configs, |v| show_other::webex(v, g, dir)))
        .build()
}

fn ranges(kind: RangeKind, items: &[String], weekday: bool) -> Option<Node> {
    let parsed = parse_ranges(kind, items).ok().filter(|r| !r.is_empty())?;
    let name = |v: i64| {
        if weekday {
            usize::try_from(v)
                .ok()
                .and_then(|i| WEEKDAYS.get(i))
                .map_or(v.to_string(), |s| s.to_string())
        } else {
            v.to_string()
        }
    };
    let items = parsed
        .iter()
        .map(|&(a, b)| Node::str(if a == b { name(a) } else { format!("{}:{}", name(a), name(b)) }))
        .collect();
    Some(Node::FlowSeq(items))
}

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn time_interval(t: &TimeIntervalConfig) -> Node {
    let times: Vec<Node> = t
        .times
        .iter()
        .map(|r| {
            let (s, e) =
                (parse_hhmm(&r.start_time).unwrap_or(0), parse_hhmm(&r.end_time).unwrap_or(0));
            MapBuilder::default()
                .put("start_time", Node::str(hhmm(s)))
                .put("end_time", Node::str(hhmm(e)))
                .build()
        })
        .collect();
    let location = t.location.as_deref().map(|l| if l.is_empty() { "UTC" } else { l });
    MapBuilder::default()
        .seq("times", times)
        .opt("weekdays", ranges(RangeKind::Weekday, &t.weekdays, true))
        .opt("days_of_month", ranges(RangeKind::DayOfMonth, &t.days_of_month, false))
        .opt("months", ranges(RangeKind::Month, &t.months, false))
        .opt("years", ranges(RangeKind::Year, &t.years, false))
        .s("location", location)
        .build()
}

fn named_intervals(list: &[NamedTimeInterval]) -> Vec<Node> {
    list.iter()
        .map(|n| {
            let intervals = n.time_intervals.iter().map(time_interval).collect();
            MapBuilder::default()
                .put("name", Node::str(n.name.as_str()))
                .put("time_intervals", Node::Seq(intervals))
                .build()
        })
        .collect()
}

/// The receivers a route names.
fn routed_receivers(r: &RouteConfig, out: &mut std::collections::HashSet<String>) {
    out.extend(r.receiver.iter().cloned());
    r.routes.iter().for_each(|c| routed_receivers(c, out));
}

/// The document tree of `Config.String()`.
pub(super) fn document(c: &Config) -> Node {
    let dir = config_dir(&c.path);
    let global_ogc =
        with_slash(c.global.opsgenie_api_url.as_deref().unwrap_or(DEFAULT_OPSGENIE_URL));
    let opsgenie_inherits = c
        .receivers
        .iter()
        .flat_map(|r| &r.opsgenie_configs)
        .any(|o| o.api_url.as_deref().map(with_slash).as_deref() == Some(global_ogc.as_str()));
    let mut used = std::collections::HashSet::new();
    if let Some(r) = &c.route {
        routed_receivers(r, &mut used);
    }
    let templates: Vec<Node> = c.templates.iter().map(|t| Node::str(join_dir(&dir, t))).collect();
    MapBuilder::default()
        .put("global", global(&c.global, &dir, opsgenie_inherits))
        .opt("route", c.route.as_ref().map(route))
        .seq("inhibit_rules", c.inhibit_rules.iter().map(inhibit_rule).collect())
        .seq(
            "receivers",
            c.receivers
                .iter()
                .map(|r| receiver(r, &c.global, &dir, used.contains(&r.name)))
                .collect(),
        )
        .put("templates", Node::Seq(templates))
        .seq("mute_time_intervals", named_intervals(&c.mute_time_intervals))
        .seq("time_intervals", named_intervals(&c.time_intervals))
        .build()
}

impl Config {
    /// The config as Alertmanager 0.25 serves it in `/api/v2/status` (`config.original`).
    pub fn go_yaml(&self) -> String {
        goyaml::to_string(&document(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_paths() {
        assert_eq!(canonical_header("x-custom-HEADER"), "X-Custom-Header");
        assert_eq!(canonical_header("bad header"), "bad header");
        assert_eq!(join_dir("/etc/am", "t/../x.tmpl"), "/etc/am/x.tmpl");
        assert_eq!(join_dir(".", "x.tmpl"), "x.tmpl");
        assert_eq!(config_dir("/etc/am/am.yml"), "/etc/am");
        assert_eq!(with_slash("https://a.b/api?x=1"), "https://a.b/api/?x=1");
        assert_eq!(with_slash("https://a.b"), "https://a.b/");
    }
}
