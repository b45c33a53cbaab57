//! The integrations Pharos parses but does not deliver to (Discord, WeChat, Pushover,
//! VictorOps, SNS, Telegram, Webex), shown as Alertmanager 0.25 marshals them: their generic
//! parsed form with Alertmanager's defaults and the `global` values they inherit.

use serde_json::Value;

use super::GlobalConfig;
use super::goyaml::Node;
use super::http::HttpConfig;
use super::show::{MapBuilder, go_url, http, with_slash};

/// A Go string field read from the generic form (YAML numbers and bools become their text).
fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string field with a default: absent takes it, `""` is left out.
fn text_or(v: &Value, k: &str, default: &str) -> Option<String> {
    Some(text(v, k).unwrap_or_else(|| default.to_string()))
}

fn flag(v: &Value, k: &str, default: bool) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(default)
}

/// The integration's own `http_config`, else the global one.
fn http_of(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    let own =
        v.get("http_config").and_then(|h| serde_json::from_value::<HttpConfig>(h.clone()).ok());
    http(own.as_ref().or(g.http_config.as_ref()), dir)
}

fn string_map(v: &Value, k: &str) -> std::collections::BTreeMap<String, String> {
    v.get(k)
        .and_then(Value::as_object)
        .map(|m| m.keys().filter_map(|key| text(&v[k], key).map(|s| (key.clone(), s))).collect())
        .unwrap_or_default()
}

fn tmpl(name: &str) -> String {
    format!("{{{{ template \"{name}\" . }}}}")
}

fn base(v: &Value, g: &GlobalConfig, dir: &str, send_resolved: bool) -> MapBuilder {
    MapBuilder::default()
        .put("send_resolved", Node::bool(flag(v, "send_resolved", send_resolved)))
        .put("http_config", http_of(v, g, dir))
}

pub(super) fn discord(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    base(v, g, dir, true)
        .secret("webhook_url", text(v, "webhook_url").as_deref())
        .s("title", text_or(v, "title", &tmpl("discord.default.title")).as_deref())
        .s("message", text_or(v, "message", &tmpl("discord.default.message")).as_deref())
        .build()
}

pub(super) fn wechat(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    let url = text(v, "api_url")
        .or_else(|| g.wechat_api_url.clone())
        .unwrap_or_else(|| "https://qyapi.weixin.qq.com/cgi-bin/".into());
    let secret = text(v, "api_secret").filter(|s| !s.is_empty()).or(g.wechat_api_secret.clone());
    let corp = text(v, "corp_id").filter(|s| !s.is_empty()).or(g.wechat_api_corp_id.clone());
    let message_type = text(v, "message_type").filter(|s| !s.is_empty());
    base(v, g, dir, false)
        .secret("api_secret", secret.as_deref())
        .s("corp_id", corp.as_deref())
        .s("message", text_or(v, "message", &tmpl("wechat.default.message")).as_deref())
        .s("api_url", Some(with_slash(&go_url(&url))).as_deref())
        .s("to_user", text_or(v, "to_user", &tmpl("wechat.default.to_user")).as_deref())
        .s("to_party", text_or(v, "to_party", &tmpl("wechat.default.to_party")).as_deref())
        .s("to_tag", text_or(v, "to_tag", &tmpl("wechat.default.to_tag")).as_deref())
        .s("agent_id", text_or(v, "agent_id", &tmpl("wechat.default.agent_id")).as_deref())
        .s("message_type", Some(message_type.as_deref().unwrap_or("text")))
        .build()
}

/// Go's `time.Duration.String()` for a duration `time.ParseDuration` reads, else the text.
fn go_time_duration(s: &str) -> String {
    let Some(ms) = parse_go_duration_ms(s) else { return s.to_string() };
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m) = (ms / 3_600_000, ms / 60_000 % 60);
    let secs = ms % 60_000;
    let sec = if secs % 1000 == 0 {
        format!("{}s", secs / 1000)
    } else {
        format!("{}.{}s", secs / 1000, format!("{:03}", secs % 1000).trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => sec,
        (0, m) => format!("{m}m{sec}"),
        (h, m) => format!("{h}h{m}m{sec}"),
    }
}

/// Whole numbers of `h`, `m`, `s`, `ms` (the forms Pushover durations are written in).
fn parse_go_duration_ms(s: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (mult, len) = if rest.starts_with("ms") {
            (1, 2)
        } else {
            match rest.chars().next()? {
                'h' => (3_600_000, 1),
                'm' => (60_000, 1),
                's' => (1000, 1),
                _ => return None,
            }
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
        rest = &rest[len..];
    }
    Some(total)
}

pub(super) fn pushover(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    let dur = |k: &str, d: &str| text(v, k).map_or(d.to_string(), |s| go_time_duration(&s));
    base(v, g, dir, true)
        .secret("user_key", text(v, "user_key").as_deref())
        .secret("token", text(v, "token").as_deref())
        .s("title", text_or(v, "title", &tmpl("pushover.default.title")).as_deref())
        .s("message", text_or(v, "message", &tmpl("pushover.default.message")).as_deref())
        .s("url", text_or(v, "url", &tmpl("pushover.default.url")).as_deref())
        .s("url_title", text(v, "url_title").as_deref())
        .s("sound", text(v, "sound").as_deref())
        .s(
            "priority",
            text_or(v, "priority", r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#)
                .as_deref(),
        )
        .s("retry", Some(dur("retry", "1m0s")).as_deref().filter(|d| *d != "0s"))
        .s("expire", Some(dur("expire", "1h0m0s")).as_deref().filter(|d| *d != "0s"))
        .put("html", Node::bool(flag(v, "html", false)))
        .build()
}

pub(super) fn victorops(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    let url = text(v, "api_url").or_else(|| g.victorops_api_url.clone()).unwrap_or_else(|| {
        "https://alert.victorops.com/integrations/generic/20131114/alert/".into()
    });
    let (key, key_file) = match (text(v, "api_key"), text(v, "api_key_file")) {
        (None, None) => (g.victorops_api_key.clone(), g.victorops_api_key_file.clone()),
        own => own,
    };
    let always = |k: &str, d: &str| Node::str(text(v, k).unwrap_or_else(|| d.to_string()));
    let m = base(v, g, dir, true)
        .secret("api_key", key.as_deref())
        .s("api_key_file", key_file.as_deref())
        .put("api_url", Node::str(with_slash(&go_url(&url))))
        .put("routing_key", always("routing_key", ""))
        .put("message_type", always("message_type", "CRITICAL"))
        .put("state_message", always("state_message", &tmpl("victorops.default.state_message")))
        .put(
            "entity_display_name",
            always("entity_display_name", &tmpl("victorops.default.entity_display_name")),
        )
        .put(
            "monitoring_tool",
            always("monitoring_tool", &tmpl("victorops.default.monitoring_tool")),
        );
    m.map("custom_fields", &string_map(v, "custom_fields")).build()
}

pub(super) fn sns(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    let empty = Value::Null;
    let s4 = v.get("sigv4").unwrap_or(&empty);
    let sigv4 = MapBuilder::default()
        .s("region", text(s4, "region").as_deref())
        .s("access_key", text(s4, "access_key").as_deref())
        .secret("secret_key", text(s4, "secret_key").as_deref())
        .s("profile", text(s4, "profile").as_deref())
        .s("role_arn", text(s4, "role_arn").as_deref())
        .build();
    base(v, g, dir, true)
        .s("api_url", text(v, "api_url").as_deref())
        .put("sigv4", sigv4)
        .s("topic_arn", text(v, "topic_arn").as_deref())
        .s("phone_number", text(v, "phone_number").as_deref())
        .s("target_arn", text(v, "target_arn").as_deref())
        .s("subject", text_or(v, "subject", &tmpl("sns.default.subject")).as_deref())
        .s("message", text_or(v, "message", &tmpl("sns.default.message")).as_deref())
        .map("attributes", &string_map(v, "attributes"))
        .build()
}

pub(super) fn telegram(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    let url = text(v, "api_url")
        .or_else(|| g.telegram_api_url.clone())
        .unwrap_or_else(|| "https://api.telegram.org".into());
    let chat = v.get("chat_id").and_then(Value::as_i64).filter(|c| *c != 0);
    base(v, g, dir, true)
        .put("api_url", Node::str(go_url(&url)))
        .secret("bot_token", text(v, "bot_token").as_deref())
        .opt("chat_id", chat.map(|c| Node::Plain(c.to_string())))
        .s("message", text_or(v, "message", &tmpl("telegram.default.message")).as_deref())
        .opt(
            "disable_notifications",
            flag(v, "disable_notifications", false).then(|| Node::bool(true)),
        )
        .s("parse_mode", text_or(v, "parse_mode", "HTML").as_deref())
        .build()
}

pub(super) fn webex(v: &Value, g: &GlobalConfig, dir: &str) -> Node {
    let url = text(v, "api_url")
        .or_else(|| g.webex_api_url.clone())
        .unwrap_or_else(|| "https://webexapis.com/v1/messages".into());
    base(v, g, dir, true)
        .s("api_url", Some(go_url(&url).as_str()))
        .s("message", text_or(v, "message", &tmpl("webex.default.message")).as_deref())
        .put("room_id", Node::str(text(v, "room_id").unwrap_or_default()))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_prints_them() {
        assert_eq!(go_time_duration("1m"), "1m0s");
        assert_eq!(go_time_duration("1h"), "1h0m0s");
        assert_eq!(go_time_duration("90s"), "1m30s");
        assert_eq!(go_time_duration("1500ms"), "1.5s");
        assert_eq!(go_time_duration("250ms"), "250ms");
    }
}
