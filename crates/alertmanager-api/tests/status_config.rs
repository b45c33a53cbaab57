//! `/api/v2/status` `config.original` and `amtool config show`: Pharos serves its loaded
//! config as Alertmanager 0.25 marshals it (defaults filled in, secrets as `<secret>`, Go
//! struct order, yaml.v2 quoting). Each config is checked byte for byte against the real
//! Alertmanager when it is installed; the golden strings below are what it printed.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use alertmanager::Config;
use alertmanager_api::AlertmanagerService;

const AM: &str = "/usr/bin/prometheus-alertmanager";
const AMTOOL: &str = "/usr/bin/amtool";

/// A config file in a temporary directory (its absolute path matters: relative template and
/// credential paths are joined to the file's directory).
struct CfgFile {
    dir: tempfile::TempDir,
    path: String,
}

fn write_cfg(text: &str) -> CfgFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("am.yml");
    std::fs::write(&path, text).unwrap();
    CfgFile { path: path.display().to_string(), dir }
}

/// Starts the real Alertmanager on the file; returns `config.original` and the amtool output.
async fn real_status(f: &CfgFile) -> (String, String) {
    let port = common::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _child = common::spawn(Command::new(AM).args([
        format!("--config.file={}", f.path),
        format!("--storage.path={}", f.dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".to_string(),
    ]));
    assert!(
        common::wait_http_ok(&format!("{url}/-/ready"), Duration::from_secs(20)).await,
        "alertmanager did not start"
    );
    let original = original_of(&url).await;
    let shown = amtool_show(&url).await;
    (original, shown)
}

async fn original_of(url: &str) -> String {
    let v: serde_json::Value =
        reqwest::get(format!("{url}/api/v2/status")).await.unwrap().json().await.unwrap();
    v["config"]["original"].as_str().unwrap().to_string()
}

async fn amtool_show(url: &str) -> String {
    let args = ["config".to_string(), "show".to_string(), format!("--alertmanager.url={url}")];
    let out =
        tokio::task::spawn_blocking(move || Command::new(AMTOOL).args(args).output().unwrap())
            .await
            .unwrap();
    assert!(out.status.success(), "amtool: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn pharos_status(f: &CfgFile) -> (String, String, AlertmanagerService) {
    let cfg = Config::load_file(&f.path).unwrap();
    let (url, svc) = common::serve(cfg).await;
    let original = original_of(&url).await;
    let shown =
        if std::path::Path::new(AMTOOL).exists() { amtool_show(&url).await } else { String::new() };
    (original, shown, svc)
}

/// The `global` section Alertmanager 0.25 writes for a config that sets nothing in it.
const DEFAULT_GLOBAL: &str = r"global:
  resolve_timeout: 5m
  http_config:
    follow_redirects: true
    enable_http2: true
  smtp_hello: localhost
  smtp_require_tls: true
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
  opsgenie_api_url: https://api.opsgenie.com/
  wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
  victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
";

/// Pharos' `config.original` equals `golden` (with `{dir}` for the file's directory and
/// `{default_global}` for [`DEFAULT_GLOBAL`]) and, when Alertmanager is installed, what it
/// serves; `amtool config show` agrees too.
async fn check(text: &str, golden: &str) {
    let f = write_cfg(text);
    let golden = golden
        .replace("{default_global}", DEFAULT_GLOBAL)
        .replace("{dir}", &f.dir.path().display().to_string());
    let (ours, ours_shown, _svc) = pharos_status(&f).await;
    if common::have(AM) && common::have(AMTOOL) {
        let (real, real_shown) = real_status(&f).await;
        assert_eq!(ours, real, "config.original differs from Alertmanager's for\n{text}");
        assert_eq!(ours_shown, real_shown, "amtool config show differs for\n{text}");
    }
    assert_eq!(ours, golden, "config.original differs from the golden string for\n{text}");
}

/// A routing tree with every kind of matcher (sorted as Alertmanager sorts them), inhibit rules,
/// time intervals, templates (relative ones joined to the file's directory) and email, Slack,
/// PagerDuty and OpsGenie receivers filled in from `global` and their defaults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_inhibit_rules_intervals_and_email_defaults() {
    check(
        r##"global:
  smtp_smarthost: 'localhost:25'
  smtp_from: 'am@example.org'
  smtp_auth_password: hunter2
  slack_api_url: 'http://127.0.0.1:1/slack'
route:
  receiver: web
  group_by: [alertname]
  routes:
  - matchers: ['severity="page"', 'a=~"x|y"']
    receiver: mail
    match: {a: b}
    match_re: {c: "d.*"}
    continue: true
    group_wait: 90s
    mute_time_intervals: [nights]
    active_time_intervals: [nights]
receivers:
- name: web
  webhook_configs:
  - url: http://127.0.0.1:9/hook
    max_alerts: 5
- name: mail
  email_configs:
  - to: ops@example.org
    headers: {X-A: b}
  slack_configs:
  - channel: '#x'
  pagerduty_configs:
  - routing_key: abc
  opsgenie_configs:
  - api_key: k
- name: empty
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [cluster]
- source_match: {a: b}
time_intervals:
- name: nights
  time_intervals:
  - times: [{start_time: '00:00', end_time: '06:00'}]
    weekdays: ['monday:friday']
    location: Europe/Berlin
templates: ['/tmp/*.tmpl', 'rel.tmpl']
"##,
        r##"global:
  resolve_timeout: 5m
  http_config:
    follow_redirects: true
    enable_http2: true
  smtp_from: am@example.org
  smtp_hello: localhost
  smtp_smarthost: localhost:25
  smtp_auth_password: <secret>
  smtp_require_tls: true
  slack_api_url: <secret>
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
  opsgenie_api_url: https://api.opsgenie.com/
  wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
  victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
route:
  receiver: web
  group_by:
  - alertname
  continue: false
  routes:
  - receiver: mail
    match:
      a: b
    match_re:
      c: d.*
    matchers:
    - a=~"x|y"
    - severity="page"
    mute_time_intervals:
    - nights
    active_time_intervals:
    - nights
    continue: true
    group_wait: 1m30s
inhibit_rules:
- source_matchers:
  - severity="critical"
  target_matchers:
  - severity="warning"
  equal:
  - cluster
- source_match:
    a: b
receivers:
- name: web
  webhook_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    url: http://127.0.0.1:9/hook
    max_alerts: 5
- name: mail
  email_configs:
  - send_resolved: false
    to: ops@example.org
    from: am@example.org
    hello: localhost
    smarthost: localhost:25
    auth_password: <secret>
    headers:
      From: am@example.org
      Subject: '{{ template "email.default.subject" . }}'
      To: ops@example.org
      X-A: b
    html: '{{ template "email.default.html" . }}'
    require_tls: true
  pagerduty_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    routing_key: <secret>
    url: https://events.pagerduty.com/v2/enqueue
    client: '{{ template "pagerduty.default.client" . }}'
    client_url: '{{ template "pagerduty.default.clientURL" . }}'
    description: '{{ template "pagerduty.default.description" .}}'
    details:
      firing: '{{ template "pagerduty.default.instances" .Alerts.Firing }}'
      num_firing: '{{ .Alerts.Firing | len }}'
      num_resolved: '{{ .Alerts.Resolved | len }}'
      resolved: '{{ template "pagerduty.default.instances" .Alerts.Resolved }}'
    source: '{{ template "pagerduty.default.client" . }}'
  slack_configs:
  - send_resolved: false
    http_config:
      follow_redirects: true
      enable_http2: true
    api_url: <secret>
    channel: '#x'
    username: '{{ template "slack.default.username" . }}'
    color: '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    title: '{{ template "slack.default.title" . }}'
    title_link: '{{ template "slack.default.titlelink" . }}'
    pretext: '{{ template "slack.default.pretext" . }}'
    text: '{{ template "slack.default.text" . }}'
    short_fields: false
    footer: '{{ template "slack.default.footer" . }}'
    fallback: '{{ template "slack.default.fallback" . }}'
    callback_id: '{{ template "slack.default.callbackid" . }}'
    icon_emoji: '{{ template "slack.default.iconemoji" . }}'
    icon_url: '{{ template "slack.default.iconurl" . }}'
    link_names: false
  opsgenie_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    api_key: <secret>
    api_url: https://api.opsgenie.com/
    message: '{{ template "opsgenie.default.message" . }}'
    description: '{{ template "opsgenie.default.description" . }}'
    source: '{{ template "opsgenie.default.source" . }}'
- name: empty
templates:
- /tmp/*.tmpl
- {dir}/rel.tmpl
time_intervals:
- name: nights
  time_intervals:
  - times:
    - start_time: "00:00"
      end_time: "06:00"
    weekdays: ['monday:friday']
    location: Europe/Berlin
"##,
    )
    .await;
}

/// Secrets of every kind shown as `<secret>`, bearer tokens moved into `authorization`, OAuth2,
/// TLS versions as numbers, OpsGenie URLs given a trailing slash, headers canonicalized, yaml.v2's
/// quoting and folding of awkward strings, time ranges normalized, durations as Prometheus prints
/// them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_http_configs_and_quoting() {
    check(
        r##"global:
  resolve_timeout: 8d
  http_config:
    basic_auth: {username: u, password: p}
    tls_config: {server_name: x, min_version: TLS12}
    follow_redirects: false
  opsgenie_api_url: https://og.example/api
  opsgenie_api_key: gk
  smtp_smarthost: '[::1]:25'
  smtp_from: a@b
  smtp_hello: ''
  smtp_require_tls: false
route:
  receiver: a
  group_by: ['...']
  group_wait: 0s
  group_interval: 14d
  repeat_interval: 90m
  routes:
  - receiver: b
    match: {env: "line\nbreak", team: "", job: "quote\"d", instance: "ü-ñ", a_b: "x", B: "y", x10: "1", x9: "2"}
    match_re: {env: "", job: "a|b", team: "(?i)API"}
    matchers: ['job=~"日本|web"', 'env!="nbsp\u00a0"', 'instance="{brace}"', "team=\"x\\ny\""]
    group_by: []
  - receiver: c
    matchers: ['alertname="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbb ccccccc"']
receivers:
- name: a
  webhook_configs:
  - url: http://127.0.0.1:9/x?y=1
    send_resolved: false
    http_config:
      bearer_token: tok
  - url: https://h/
    http_config:
      authorization: {credentials_file: /c}
      oauth2: null
  opsgenie_configs:
  - responders: [{name: nm, type: Team}, {id: i, type: '{{ .x }}'}]
    details: {k: v}
    update_alerts: true
    tags: a,b
    priority: P1
  - api_url: https://og2.example
    api_key_file: /k
- name: b
  pagerduty_configs:
  - service_key: s
    client: mine
    details: {firing: custom, other: "x"}
    images: [{src: s, alt: a}]
    links: [{href: h, text: t}]
    severity: critical
    http_config:
      oauth2: {client_id: id, client_secret: sec, token_url: 'http://t', scopes: [a], endpoint_params: {x: y}}
  email_configs:
  - to: 'x@y'
    headers: {subject: S, x-custom-header: v}
    text: "multi\nline text\n"
    html: ''
    tls_config: {insecure_skip_verify: true}
    auth_username: u
    auth_secret: s
- name: c
  slack_configs:
  - api_url: http://s
    fields: [{title: t, value: v, short: true}, {title: t2, value: v2}]
    actions:
    - {type: button, text: t, url: http://u, name: nm}
    - {type: button, text: t, name: nm, value: v, confirm: {text: sure}}
    mrkdwn_in: [text]
    short_fields: true
    title: "long title with lots of words that goes past the eighty column limit for yaml folding to happen here"
    text: "   leading spaces"
    footer: "trailing "
    pretext: "tab\there"
    channel: "yes"
    username: "123"
    color: "emoji 😀"
templates: [t/*.tmpl, sub/../x.tmpl, /abs/y.tmpl]
mute_time_intervals:
- name: m
  time_intervals:
  - weekdays: ['Monday:friday', saturday]
    days_of_month: ['1:31', '-3:-1', '15']
    months: ['january:december', '2', '13']
    years: ['2020:2040', '-5:10000']
    times: [{start_time: '09:00', end_time: '17:30'}, {start_time: '00:00', end_time: '24:00'}]
time_intervals:
- name: t
  time_intervals: []
- name: u
  time_intervals:
  - {}
"##,
        r##"global:
  resolve_timeout: 8d
  http_config:
    basic_auth:
      username: u
      password: <secret>
    tls_config:
      server_name: x
      insecure_skip_verify: false
      min_version: 771
    follow_redirects: false
    enable_http2: true
  smtp_from: a@b
  smtp_smarthost: ::1:25
  smtp_require_tls: false
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
  opsgenie_api_url: https://og.example/api/
  opsgenie_api_key: <secret>
  wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
  victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
route:
  receiver: a
  group_by:
  - '...'
  continue: false
  routes:
  - receiver: b
    match:
      B: "y"
      a_b: x
      env: |-
        line
        break
      instance: ü-ñ
      job: quote"d
      team: ""
      x9: "2"
      x10: "1"
    match_re:
      env: null
      job: a|b
      team: (?i)API
    matchers:
    - env!="nbsp\\u00a0"
    - instance="{brace}"
    - job=~"日本|web"
    - team="x\ny"
    continue: false
  - receiver: c
    matchers:
    - alertname="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      bbbbbbbbbbbbb ccccccc"
    continue: false
  group_wait: 0s
  group_interval: 2w
  repeat_interval: 1h30m
receivers:
- name: a
  webhook_configs:
  - send_resolved: false
    http_config:
      authorization:
        type: Bearer
        credentials: <secret>
      follow_redirects: true
      enable_http2: true
    url: http://127.0.0.1:9/x?y=1
    max_alerts: 0
  - send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials_file: /c
      follow_redirects: true
      enable_http2: true
    url: https://h/
    max_alerts: 0
  opsgenie_configs:
  - send_resolved: true
    http_config:
      basic_auth:
        username: u
        password: <secret>
      tls_config:
        server_name: x
        insecure_skip_verify: false
        min_version: 771
      follow_redirects: false
      enable_http2: true
    api_key: <secret>
    api_url: https://og.example/api/
    message: '{{ template "opsgenie.default.message" . }}'
    description: '{{ template "opsgenie.default.description" . }}'
    source: '{{ template "opsgenie.default.source" . }}'
    details:
      k: v
    responders:
    - name: nm
      type: Team
    - id: i
      type: '{{ .x }}'
    tags: a,b
    priority: P1
    update_alerts: true
  - send_resolved: true
    http_config:
      basic_auth:
        username: u
        password: <secret>
      tls_config:
        server_name: x
        insecure_skip_verify: false
        min_version: 771
      follow_redirects: false
      enable_http2: true
    api_key_file: /k
    api_url: https://og2.example/
    message: '{{ template "opsgenie.default.message" . }}'
    description: '{{ template "opsgenie.default.description" . }}'
    source: '{{ template "opsgenie.default.source" . }}'
- name: b
  email_configs:
  - send_resolved: false
    to: x@y
    from: a@b
    smarthost: ::1:25
    auth_username: u
    auth_secret: <secret>
    headers:
      From: a@b
      Subject: S
      To: x@y
      X-Custom-Header: v
    text: |
      multi
      line text
    require_tls: false
    tls_config:
      insecure_skip_verify: true
  pagerduty_configs:
  - send_resolved: true
    http_config:
      oauth2:
        client_id: id
        client_secret: <secret>
        client_secret_file: ""
        scopes:
        - a
        token_url: http://t
        endpoint_params:
          x: "y"
      follow_redirects: true
      enable_http2: true
    service_key: <secret>
    url: https://events.pagerduty.com/v2/enqueue
    client: mine
    client_url: '{{ template "pagerduty.default.clientURL" . }}'
    description: '{{ template "pagerduty.default.description" .}}'
    details:
      firing: custom
      num_firing: '{{ .Alerts.Firing | len }}'
      num_resolved: '{{ .Alerts.Resolved | len }}'
      other: x
      resolved: '{{ template "pagerduty.default.instances" .Alerts.Resolved }}'
    images:
    - src: s
      alt: a
    links:
    - href: h
      text: t
    source: mine
    severity: critical
- name: c
  slack_configs:
  - send_resolved: false
    http_config:
      basic_auth:
        username: u
        password: <secret>
      tls_config:
        server_name: x
        insecure_skip_verify: false
        min_version: 771
      follow_redirects: false
      enable_http2: true
    api_url: <secret>
    channel: "yes"
    username: "123"
    color: "emoji \U0001F600"
    title: long title with lots of words that goes past the eighty column limit for
      yaml folding to happen here
    title_link: '{{ template "slack.default.titlelink" . }}'
    pretext: "tab\there"
    text: '   leading spaces'
    fields:
    - title: t
      value: v
      short: true
    - title: t2
      value: v2
    short_fields: true
    footer: 'trailing '
    fallback: '{{ template "slack.default.fallback" . }}'
    callback_id: '{{ template "slack.default.callbackid" . }}'
    icon_emoji: '{{ template "slack.default.iconemoji" . }}'
    icon_url: '{{ template "slack.default.iconurl" . }}'
    link_names: false
    mrkdwn_in:
    - text
    actions:
    - type: button
      text: t
      url: http://u
    - type: button
      text: t
      name: nm
      value: v
      confirm:
        text: sure
templates:
- {dir}/t/*.tmpl
- {dir}/x.tmpl
- /abs/y.tmpl
mute_time_intervals:
- name: m
  time_intervals:
  - times:
    - start_time: "09:00"
      end_time: "17:30"
    - start_time: "00:00"
      end_time: "24:00"
    weekdays: ['monday:friday', saturday]
    days_of_month: ["1:31", '-3:-1', "15"]
    months: ["1:12", "2", "13"]
    years: ['2020:2040', '-5:10000']
time_intervals:
- name: t
  time_intervals: []
- name: u
  time_intervals:
  - {}
"##,
    )
    .await;
}

/// The smallest config: every global default and `templates: []`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_config_fills_every_global_default() {
    check(
        r##"route:
  receiver: only
receivers:
- name: only
"##,
        r##"{default_global}route:
  receiver: only
  continue: false
receivers:
- name: only
templates: []
"##,
    )
    .await;
}

/// Integrations Pharos parses but does not deliver to (Discord, WeChat, Pushover, VictorOps,
/// SNS, Telegram, Webex): their defaults, inherited globals and secrets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_pharos_does_not_deliver_to() {
    check(
        r##"global:
  wechat_api_secret: ws
  wechat_api_corp_id: corp
  victorops_api_key: vk
route:
  receiver: all
receivers:
- name: all
  discord_configs:
  - webhook_url: http://127.0.0.1:9/d
  wechat_configs:
  - to_user: u
  - api_url: http://127.0.0.1:9/w
    api_secret: own
    message_type: markdown
  pushover_configs:
  - user_key: uk
    token: tk
  - user_key: uk
    token: tk
    retry: 90s
    expire: 2h
    html: true
    priority: 1
  victorops_configs:
  - routing_key: rk
  - routing_key: rk2
    api_key_file: /f
    api_url: http://127.0.0.1:9/v
    custom_fields: {a: b}
  sns_configs:
  - topic_arn: arn:aws:sns:us-east-1:1:t
    sigv4: {region: us-east-1, access_key: ak, secret_key: sk}
    attributes: {k: v}
  telegram_configs:
  - bot_token: bt
    chat_id: 12345
  webex_configs:
  - room_id: r
    http_config:
      authorization: {credentials: c}
"##,
        r##"global:
  resolve_timeout: 5m
  http_config:
    follow_redirects: true
    enable_http2: true
  smtp_hello: localhost
  smtp_require_tls: true
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
  opsgenie_api_url: https://api.opsgenie.com/
  wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
  wechat_api_secret: <secret>
  wechat_api_corp_id: corp
  victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
  victorops_api_key: <secret>
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
route:
  receiver: all
  continue: false
receivers:
- name: all
  discord_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    webhook_url: <secret>
    title: '{{ template "discord.default.title" . }}'
    message: '{{ template "discord.default.message" . }}'
  wechat_configs:
  - send_resolved: false
    http_config:
      follow_redirects: true
      enable_http2: true
    api_secret: <secret>
    corp_id: corp
    message: '{{ template "wechat.default.message" . }}'
    api_url: https://qyapi.weixin.qq.com/cgi-bin/
    to_user: u
    to_party: '{{ template "wechat.default.to_party" . }}'
    to_tag: '{{ template "wechat.default.to_tag" . }}'
    agent_id: '{{ template "wechat.default.agent_id" . }}'
    message_type: text
  - send_resolved: false
    http_config:
      follow_redirects: true
      enable_http2: true
    api_secret: <secret>
    corp_id: corp
    message: '{{ template "wechat.default.message" . }}'
    api_url: http://127.0.0.1:9/w/
    to_user: '{{ template "wechat.default.to_user" . }}'
    to_party: '{{ template "wechat.default.to_party" . }}'
    to_tag: '{{ template "wechat.default.to_tag" . }}'
    agent_id: '{{ template "wechat.default.agent_id" . }}'
    message_type: markdown
  pushover_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    user_key: <secret>
    token: <secret>
    title: '{{ template "pushover.default.title" . }}'
    message: '{{ template "pushover.default.message" . }}'
    url: '{{ template "pushover.default.url" . }}'
    priority: '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}'
    retry: 1m0s
    expire: 1h0m0s
    html: false
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    user_key: <secret>
    token: <secret>
    title: '{{ template "pushover.default.title" . }}'
    message: '{{ template "pushover.default.message" . }}'
    url: '{{ template "pushover.default.url" . }}'
    priority: "1"
    retry: 1m30s
    expire: 2h0m0s
    html: true
  victorops_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    api_key: <secret>
    api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
    routing_key: rk
    message_type: CRITICAL
    state_message: '{{ template "victorops.default.state_message" . }}'
    entity_display_name: '{{ template "victorops.default.entity_display_name" . }}'
    monitoring_tool: '{{ template "victorops.default.monitoring_tool" . }}'
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    api_key_file: /f
    api_url: http://127.0.0.1:9/v/
    routing_key: rk2
    message_type: CRITICAL
    state_message: '{{ template "victorops.default.state_message" . }}'
    entity_display_name: '{{ template "victorops.default.entity_display_name" . }}'
    monitoring_tool: '{{ template "victorops.default.monitoring_tool" . }}'
    custom_fields:
      a: b
  sns_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    sigv4:
      region: us-east-1
      access_key: ak
      secret_key: <secret>
    topic_arn: arn:aws:sns:us-east-1:1:t
    subject: '{{ template "sns.default.subject" . }}'
    message: '{{ template "sns.default.message" . }}'
    attributes:
      k: v
  telegram_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    api_url: https://api.telegram.org
    bot_token: <secret>
    chat_id: 12345
    message: '{{ template "telegram.default.message" . }}'
    parse_mode: HTML
  webex_configs:
  - send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials: <secret>
      follow_redirects: true
      enable_http2: true
    api_url: https://webexapis.com/v1/messages
    message: '{{ template "webex.default.message" . }}'
    room_id: r
templates: []
"##,
    )
    .await;
}

/// Label values that need each of yaml.v2's quoting styles, escapes (including its escaping of
/// every character after a leading byte order mark), literal blocks and folding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoting_escapes_and_folding_of_awkward_values_1() {
    check(
        r##"route:
  receiver: r
  routes:
  - receiver: r
    match:
      a1: "#x"
      a2: "x #y"
      a3: "x: y"
      a4: "- x"
      a5: "? x"
      a6: "@x"
      a7: "%x"
      a8: "`x"
      a9: "---x"
      b1: "...x"
      b2: "x\u0085y"
      b3: "x\u2028y"
      b4: "\ufeffx"
      b5: "x\ry"
      b6: "a  \n  b"
      b7: "\nlead"
      b8: "trail\n\n"
      b9: "x\\y"
      c1: "0x1F"
      c2: "1e3"
      c3: "0o17"
      c4: ".5"
      c5: "1_000"
      c6: "+1"
      c7: "on"
      c8: "~"
      c9: "null"
      d1: "2024-01-02T03:04:05Z"
      d2: "12:30:45"
      d3: "-"
      d4: ":"
      d5: "a'b"
      d6: "a\"b"
      d7: "x:"
      d8: "<<"
      d9: ".inf"
      e1: "x,y"
      e2: "[x]"
      e3: "{x}"
      e4: "x]"
      e5: "!x"
      e6: "*x"
      e7: "&x"
      e8: "|x"
      e9: ">x"
      f1: "ä ö"
      f2: "x\u00a0"
      f3: "\u00a0x"
      f4: " "
      f5: "08"
      f6: "0b101"
      f7: "1:2:3"
      f8: "10:70"
      f9: "Yes"
    match_re:
      x: "this is a very long regular expression value that will certainly pass the eighty column limit|and more"
receivers:
- name: r
"##,
        r##"{default_global}route:
  receiver: r
  continue: false
  routes:
  - receiver: r
    match:
      a1: '#x'
      a2: 'x #y'
      a3: 'x: y'
      a4: '- x'
      a5: '? x'
      a6: '@x'
      a7: '%x'
      a8: '`x'
      a9: '---x'
      b1: '...x'
      b2: "x\Ny"
      b3: 'x         y'
      b4: "\uFEFF\x78"
      b5: "x\ry"
      b6: "a  \n  b"
      b7: |2-

        lead
      b8: |+
        trail

      b9: x\y
      c1: "0x1F"
      c2: "1e3"
      c3: "0o17"
      c4: ".5"
      c5: "1_000"
      c6: "+1"
      c7: "on"
      c8: "~"
      c9: "null"
      d1: "2024-01-02T03:04:05Z"
      d2: "12:30:45"
      d3: '-'
      d4: ':'
      d5: a'b
      d6: a"b
      d7: 'x:'
      d8: <<
      d9: ".inf"
      e1: x,y
      e2: '[x]'
      e3: '{x}'
      e4: x]
      e5: '!x'
      e6: '*x'
      e7: '&x'
      e8: '|x'
      e9: '>x'
      f1: ä ö
      f2: x 
      f3:  x
      f4: ' '
      f5: "08"
      f6: "0b101"
      f7: "1:2:3"
      f8: 10:70
      f9: "Yes"
    match_re:
      x: this is a very long regular expression value that will certainly pass the
        eighty column limit|and more
    continue: false
receivers:
- name: r
templates: []
"##,
    )
    .await;
}

/// Label values that need each of yaml.v2's quoting styles, escapes (including its escaping of
/// every character after a leading byte order mark), literal blocks and folding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoting_escapes_and_folding_of_awkward_values_2() {
    check(
        r##"route:
  receiver: r
  routes:
  - receiver: r
    match:
      b2: "x\u0085y"
      b4: "\ufeffxyz"
      b5: "a\ufeffbc"
      b6: "a\tbc"
      b7: "a\u0001bc"
      b8: "😀bc"
receivers:
- name: r
"##,
        r##"{default_global}route:
  receiver: r
  continue: false
  routes:
  - receiver: r
    match:
      b2: "x\Ny"
      b4: "\uFEFF\x78\x79\x7A"
      b5: "a\uFEFFbc"
      b6: "a\tbc"
      b7: "a\x01bc"
      b8: "\U0001F600bc"
    continue: false
receivers:
- name: r
templates: []
"##,
    )
    .await;
}

/// `yes`, `n`, `0x10`, `007` and `1.50` written unquoted are strings in Alertmanager's string
/// fields, also in Slack actions and OpsGenie responders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_1_1_scalars_read_into_strings_stay_text() {
    check(
        r##"route:
  receiver: r
receivers:
- name: r
  slack_configs:
  - api_url: http://127.0.0.1:9/s
    channel: yes
    username: 0x10
    title: 1.50
    actions:
    - {type: button, text: t, name: n, value: 007}
  opsgenie_configs:
  - api_key: k
    responders: [{name: y, type: team}]
    priority: P1
"##,
        r##"{default_global}route:
  receiver: r
  continue: false
receivers:
- name: r
  slack_configs:
  - send_resolved: false
    http_config:
      follow_redirects: true
      enable_http2: true
    api_url: <secret>
    channel: "yes"
    username: "0x10"
    color: '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    title: "1.50"
    title_link: '{{ template "slack.default.titlelink" . }}'
    pretext: '{{ template "slack.default.pretext" . }}'
    text: '{{ template "slack.default.text" . }}'
    short_fields: false
    footer: '{{ template "slack.default.footer" . }}'
    fallback: '{{ template "slack.default.fallback" . }}'
    callback_id: '{{ template "slack.default.callbackid" . }}'
    icon_emoji: '{{ template "slack.default.iconemoji" . }}'
    icon_url: '{{ template "slack.default.iconurl" . }}'
    link_names: false
    actions:
    - type: button
      text: t
      name: "n"
      value: "007"
  opsgenie_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    api_key: <secret>
    api_url: https://api.opsgenie.com/
    message: '{{ template "opsgenie.default.message" . }}'
    description: '{{ template "opsgenie.default.description" . }}'
    source: '{{ template "opsgenie.default.source" . }}'
    responders:
    - name: "y"
      type: team
    priority: P1
templates: []
"##,
    )
    .await;
}

/// URLs as Go's `url.URL.String()` prints them: the scheme lowercased, a path that is not
/// validly escaped escaped again, credentials, query and fragment as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_as_go_prints_them() {
    check(
        r##"global:
  pagerduty_url: HTTP://Example.COM/pd?
route:
  receiver: r
receivers:
- name: r
  webhook_configs:
  - url: HTTPS://Host.Example:8443/a%20b/c?x=1&y=%2F#frag
  - url: http://127.0.0.1:9/ü?q=ä
  - url: http://user:pw@127.0.0.1:9/p
  - url: http://127.0.0.1:9/a b
"##,
        r##"global:
  resolve_timeout: 5m
  http_config:
    follow_redirects: true
    enable_http2: true
  smtp_hello: localhost
  smtp_require_tls: true
  pagerduty_url: http://Example.COM/pd?
  opsgenie_api_url: https://api.opsgenie.com/
  wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
  victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
route:
  receiver: r
  continue: false
receivers:
- name: r
  webhook_configs:
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    url: https://Host.Example:8443/a%20b/c?x=1&y=%2F#frag
    max_alerts: 0
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    url: http://127.0.0.1:9/%C3%BC?q=ä
    max_alerts: 0
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    url: http://user:pw@127.0.0.1:9/p
    max_alerts: 0
  - send_resolved: true
    http_config:
      follow_redirects: true
      enable_http2: true
    url: http://127.0.0.1:9/a%20b
    max_alerts: 0
templates: []
"##,
    )
    .await;
}

/// Keys longer than 128 bytes or with a line break written as `? key`, and flow sequences
/// (time interval ranges) wrapped after column 80.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complex_keys_and_wrapped_flow_sequences_1() {
    check(
        r##"route:
  receiver: r
  routes:
  - receiver: r
    mute_time_intervals: [t]
receivers:
- name: r
  email_configs:
  - to: a@b
    from: c@d
    smarthost: h:25
    headers:
      X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: v
time_intervals:
- name: t
  time_intervals:
  - years: ['2001', '2002', '2003', '2004', '2005', '2006', '2007', '2008', '2009', '2010', '2011', '2012', '2013', '2014', '2015:2016', '2017:2018', '2019:2020']
    weekdays: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]
"##,
        r##"{default_global}route:
  receiver: r
  continue: false
  routes:
  - receiver: r
    mute_time_intervals:
    - t
    continue: false
receivers:
- name: r
  email_configs:
  - send_resolved: false
    to: a@b
    from: c@d
    hello: localhost
    smarthost: h:25
    headers:
      From: c@d
      Subject: '{{ template "email.default.subject" . }}'
      To: a@b
      ? X-Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      : v
    html: '{{ template "email.default.html" . }}'
    require_tls: true
templates: []
time_intervals:
- name: t
  time_intervals:
  - weekdays: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]
    years: ["2001", "2002", "2003", "2004", "2005", "2006", "2007", "2008", "2009",
      "2010", "2011", "2012", "2013", "2014", '2015:2016', '2017:2018', '2019:2020']
"##,
    )
    .await;
}

/// Keys longer than 128 bytes or with a line break written as `? key`, and flow sequences
/// (time interval ranges) wrapped after column 80.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complex_keys_and_wrapped_flow_sequences_2() {
    check(
        r##"route:
  receiver: r
receivers:
- name: r
  email_configs:
  - to: a@b
    from: c@d
    smarthost: h:25
    headers:
      "a\nb": "x\ny"
      "bad key": ""
      "X-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": "long value with words that is long enough to wrap past the eighty column limit yes"
"##,
        r##"{default_global}route:
  receiver: r
  continue: false
receivers:
- name: r
  email_configs:
  - send_resolved: false
    to: a@b
    from: c@d
    hello: localhost
    smarthost: h:25
    headers:
      From: c@d
      Subject: '{{ template "email.default.subject" . }}'
      To: a@b
      ? X-Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
      : long value with words that is long enough to wrap past the eighty column limit
        yes
      ? |-
        a
        b
      : |-
        x
        y
      bad key: ""
    html: '{{ template "email.default.html" . }}'
    require_tls: true
templates: []
"##,
    )
    .await;
}
