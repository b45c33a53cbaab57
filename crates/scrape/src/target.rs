//! Targets: turning discovered label sets into scrape targets (Prometheus' `PopulateLabels`),
//! their URLs, and their shared, observable state.

use std::sync::Arc;

use model::relabel::{self, RelabelConfig};
use model::{Labels, LabelsBuilder};
use parking_lot::Mutex;

use crate::shown_discovered::ShownDiscovered;
use crate::spread::Spread;

/// Health of a target as `/api/v1/targets` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    #[default]
    Unknown,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The mutable state of a target, updated by its scrape loop.
#[derive(Debug, Clone, Default)]
pub struct TargetState {
    pub health: Health,
    pub last_error: String,
    /// Start of the last scrape, in ms since the epoch.
    pub last_scrape_ms: Option<i64>,
    pub last_scrape_duration: std::time::Duration,
}

/// One scrape target.
#[derive(Debug)]
pub struct Target {
    /// Final labels, including `__address__`, `__scheme__`, `__metrics_path__`, `__param_*`.
    pub labels: Labels,
    /// Labels before relabeling (group and target labels plus job/scheme/... defaults). Each
    /// sync sets them from the last discovered target with these labels, as Prometheus does.
    discovered_labels: Mutex<Labels>,
    pub url: String,
    /// The URL as Prometheus' API shows it.
    pub display_url: String,
    pub state: Mutex<TargetState>,
    pub metadata: Mutex<Vec<crate::MetricMetadata>>,
}

impl Target {
    pub fn new(
        labels: Labels,
        discovered_labels: Labels,
        params: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Arc<Target> {
        let url = scrape_url(&labels, params);
        let display_url = display_url(&labels, params);
        Arc::new(Target {
            labels,
            discovered_labels: Mutex::new(discovered_labels),
            url,
            display_url,
            state: Mutex::new(TargetState::default()),
            metadata: Mutex::new(Vec::new()),
        })
    }

    pub fn discovered_labels(&self) -> Labels {
        self.discovered_labels.lock().clone()
    }

    pub fn set_discovered_labels(&self, l: Labels) {
        *self.discovered_labels.lock() = l;
    }

    /// The labels attached to every sample: final labels without `__`-prefixed ones.
    pub fn public_labels(&self) -> Labels {
        self.labels.filter(|l| !l.name.starts_with("__"))
    }

    /// A stable identity: labels and URL.
    pub fn hash(&self) -> u64 {
        fnv64(self.labels.to_string().as_bytes()) ^ fnv64(self.url.as_bytes())
    }

    /// How long from `now_ms` until this target's first scrape: its offset within the
    /// interval, Prometheus' (a hash of the target) placed by the pool's `spread`, stable
    /// across restarts.
    pub fn offset(&self, interval_ms: i64, now_ms: i64, spread: Spread) -> i64 {
        if interval_ms <= 0 {
            return 0;
        }
        let base = interval_ms - now_ms.rem_euclid(interval_ms);
        let exact = self.hash() % interval_ms as u64;
        let offset = spread.place(exact, interval_ms as u64) as i64;
        let next = base + offset;
        if next > interval_ms { next - interval_ms } else { next }
    }
}

pub(crate) fn fnv64(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in b {
        h ^= u64::from(c);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `scheme://address/path?params`, the URL Pharos requests: `__param_*` labels override the
/// first value of a configured param, as Prometheus' `Target.URL` does.
pub fn scrape_url(
    labels: &Labels,
    params: &std::collections::BTreeMap<String, Vec<String>>,
) -> String {
    let scheme = labels.get("__scheme__").unwrap_or("http");
    let addr = labels.get("__address__").unwrap_or("");
    let path = labels.get("__metrics_path__").unwrap_or("/metrics");
    let slash = if path.starts_with('/') { "" } else { "/" };
    let mut url = format!("{scheme}://{addr}{slash}{path}");
    push_query(&mut url, labels, params);
    url
}

/// The URL as Prometheus shows it (`scrapeUrl`): Go's `url.URL.String()` of the scheme,
/// address and path labels as they are, with the host and path percent-encoded as Go does.
pub fn display_url(
    labels: &Labels,
    params: &std::collections::BTreeMap<String, Vec<String>>,
) -> String {
    let scheme = labels.get("__scheme__").unwrap_or("");
    let host = labels.get("__address__").unwrap_or("");
    let path = go_escape(labels.get("__metrics_path__").unwrap_or(""), |c| {
        matches!(c, b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@')
    });
    let mut url = String::new();
    if !scheme.is_empty() {
        url.push_str(scheme);
        url.push(':');
    }
    if !scheme.is_empty() || !host.is_empty() {
        if !host.is_empty() || !path.is_empty() {
            url.push_str("//");
        }
        url.push_str(&go_escape(host, |c| b"!$&'()*+,;=:[]<>\"".contains(&c)));
    }
    if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
        url.push('/');
    }
    url.push_str(&path);
    push_query(&mut url, labels, params);
    url
}

/// Go's `url.escape`: bytes other than ASCII letters, digits, `-_.~` and those `keep` allows
/// become `%XX`.
fn go_escape(s: &str, keep: impl Fn(u8) -> bool) -> String {
    escape(s, keep, false)
}

/// Go's `url.QueryEscape` (a query key or value): as [`go_escape`] keeping nothing more, with
/// a space as `+`.
fn encode(s: &str) -> String {
    escape(s, |_| false, true)
}

fn escape(s: &str, keep: impl Fn(u8) -> bool, space_as_plus: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || keep(b) {
            out.push(b as char);
        } else if b == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Appends `?params` as Go's `url.Values.Encode` (keys sorted, values in order).
fn push_query(
    url: &mut String,
    labels: &Labels,
    params: &std::collections::BTreeMap<String, Vec<String>>,
) {
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, vs) in params {
        let mut vs = vs.clone();
        if let Some(v) = labels.get(&format!("__param_{k}")) {
            match vs.first_mut() {
                Some(first) => *first = v.to_string(),
                None => vs.push(v.to_string()),
            }
        }
        query.extend(vs.into_iter().map(|v| (k.clone(), v)));
    }
    for l in labels.iter() {
        if let Some(k) = l.name.strip_prefix("__param_")
            && !params.contains_key(k)
        {
            query.push((k.to_string(), l.value.to_string()));
        }
    }
    if !query.is_empty() {
        query.sort_by(|a, b| a.0.cmp(&b.0));
        let q: Vec<String> =
            query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        url.push('?');
        url.push_str(&q.join("&"));
    }
}

/// The outcome of [`populate_labels`].
#[derive(Debug, Clone, PartialEq)]
pub enum Populated {
    /// A target with its final and discovered labels.
    Target { labels: Labels, discovered: Labels },
    /// Relabeling dropped it; the discovered labels are kept for `/api/v1/targets`.
    Dropped { discovered: Labels },
}

/// Prometheus' `PopulateLabels`: adds job/interval/timeout/path/scheme/params defaults, applies
/// `relabel_configs`, checks the address, adds a default port, drops `__meta_*` labels and
/// defaults `instance` to the address.
pub fn populate_labels(
    lset: &Labels,
    cfg: &config::ScrapeConfig,
    relabel_cfgs: &[RelabelConfig],
) -> Result<Populated, String> {
    let interval = cfg.interval().to_string();
    let timeout = cfg.timeout().to_string();
    let defaults = [
        ("job", cfg.job_name.as_str()),
        ("__scrape_interval__", interval.as_str()),
        ("__scrape_timeout__", timeout.as_str()),
        ("__metrics_path__", cfg.metrics_path.as_str()),
        ("__scheme__", cfg.scheme.as_str()),
    ];
    let mut lb = lset.builder();
    let mut changed: Vec<String> = Vec::new();
    for (name, value) in defaults {
        if lset.get(name).unwrap_or("").is_empty() {
            lb.set(name, value);
            changed.push(name.to_string());
        }
    }
    for (k, v) in &cfg.params {
        if let Some(first) = v.first() {
            let name = format!("__param_{k}");
            lb.set(&name, first);
            changed.push(name);
        }
    }
    let discovered = lb.build();
    let kept = lset.iter().filter(|l| !changed.iter().any(|c| *c == *l.name)).count();
    let mut shown = ShownDiscovered::new(&discovered, kept, changed.len());
    let mut lb = discovered.builder();
    for rc in relabel_cfgs {
        let before = lb.build();
        let mut touched: Vec<String> = Vec::new();
        if !relabel::relabel_observed(rc, &mut lb, &mut |n| touched.push(n.to_string())) {
            return Ok(Populated::Dropped { discovered: shown.labels() });
        }
        shown.step(&before, &touched, &lb.build());
    }
    let discovered = shown.labels();
    let addr = lb.get("__address__").unwrap_or("").to_string();
    if addr.is_empty() {
        return Err("no address".into());
    }
    let scheme = lb.get("__scheme__").unwrap_or("").to_string();
    let addr = with_default_port(&addr, &scheme)?;
    lb.set("__address__", &addr);
    check_target_address(&addr)?;
    check_duration(&lb, "__scrape_interval__", "interval")?;
    check_duration(&lb, "__scrape_timeout__", "timeout")?;
    let i =
        model::duration::parse_duration(lb.get("__scrape_interval__").unwrap_or("")).unwrap_or(0);
    let t =
        model::duration::parse_duration(lb.get("__scrape_timeout__").unwrap_or("")).unwrap_or(0);
    if t > i {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({:?} > {:?})",
            lb.get("__scrape_timeout__").unwrap_or(""),
            lb.get("__scrape_interval__").unwrap_or("")
        ));
    }
    drop_meta(&mut lb);
    if lb.get("instance").unwrap_or("").is_empty() {
        lb.set("instance", &addr);
    }
    Ok(Populated::Target { labels: lb.build(), discovered })
}

fn drop_meta(lb: &mut LabelsBuilder) {
    for l in lb.build().iter() {
        if l.name.starts_with("__meta_") {
            lb.del(&l.name);
        }
    }
}

fn check_duration(lb: &LabelsBuilder, label: &str, what: &str) -> Result<(), String> {
    let v = lb.get(label).unwrap_or("");
    let d = model::duration::parse_duration(v)
        .map_err(|e| format!("error parsing scrape {what}: {e}"))?;
    if d == 0 {
        return Err(format!("scrape {what} cannot be 0"));
    }
    Ok(())
}

/// Adds `:80`/`:443` to an address without a port, as Prometheus 2 does: only when Go's
/// `net.SplitHostPort` fails on the address and succeeds on it with `:1234` appended (so
/// `[::1]` gets a port, and `::1`, `[a` or `a]b` are left as they are).
fn with_default_port(addr: &str, scheme: &str) -> Result<String, String> {
    if split_host_port(addr).is_some() || split_host_port(&format!("{addr}:1234")).is_none() {
        return Ok(addr.to_string());
    }
    match scheme {
        "http" | "" => Ok(format!("{addr}:80")),
        "https" => Ok(format!("{addr}:443")),
        other => Err(format!("invalid scheme: {other:?}")),
    }
}

/// Go's `net.SplitHostPort`: `(host, port)`, or `None` where Go returns an error.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let i = s.rfind(':')?;
    let (host, j, k) = if s.starts_with('[') {
        let end = s.find(']')?;
        if end + 1 != i {
            return None;
        }
        (&s[1..end], 1, end + 1)
    } else {
        let host = &s[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if s[j..].contains('[') || s[k..].contains(']') {
        return None;
    }
    Some((host, &s[i + 1..]))
}

fn check_target_address(addr: &str) -> Result<(), String> {
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> config::ScrapeConfig {
        let c = config::parse(&format!("scrape_configs:\n- job_name: j\n{yaml}"), "t").unwrap();
        c.scrape_configs[0].clone()
    }

    #[test]
    fn urls_as_go_formats_them() {
        let params: std::collections::BTreeMap<String, Vec<String>> =
            [("q".to_string(), vec!["v2".to_string(), "v1".to_string()])].into();
        let l = Labels::new([
            ("__scheme__", "http"),
            ("__address__", "ÿ.local:80"),
            ("__metrics_path__", "a b;/ü?"),
            ("__param_q", "x y"),
        ]);
        // A __param_ label replaces the first configured value only; values keep their order.
        assert_eq!(display_url(&l, &params), "http://%C3%BF.local:80/a%20b;/%C3%BC%3F?q=x+y&q=v1");
        assert_eq!(scrape_url(&l, &params), "http://ÿ.local:80/a b;/ü??q=x+y&q=v1");
        let bare = Labels::new([("__address__", "h:1")]);
        assert_eq!(display_url(&bare, &Default::default()), "//h:1");
    }

    #[test]
    fn defaults_instance_and_port() {
        let c = cfg("  params: {module: [m1]}\n");
        let got =
            populate_labels(&Labels::new([("__address__", "host"), ("__meta_x", "y")]), &c, &[])
                .unwrap();
        let Populated::Target { labels, discovered } = got else { panic!() };
        assert_eq!(labels.get("instance"), Some("host:80"));
        for (addr, want) in [
            ("[::1]", "[::1]:80"),
            ("::1", "::1"),
            ("[127.0.0.5", "[127.0.0.5"),
            ("127.0.0.4]x", "127.0.0.4]x"),
            ("h:", "h:"),
            ("[::1]x", "[::1]x"),
            ("a]:1", "a]:1"),
        ] {
            let got = populate_labels(&Labels::new([("__address__", addr)]), &c, &[]).unwrap();
            let Populated::Target { labels, .. } = got else { panic!() };
            assert_eq!(labels.get("instance"), Some(want), "{addr}");
        }
        assert_eq!(labels.get("job"), Some("j"));
        assert_eq!(labels.get("__meta_x"), None);
        assert_eq!(discovered.get("__meta_x"), Some("y"));
        assert_eq!(discovered.get("__param_module"), Some("m1"));
        assert_eq!(labels.get("__scrape_interval__"), Some("1m"));
        let t = Target::new(labels, discovered, &c.params);
        assert_eq!(t.url, "http://host:80/metrics?module=m1");
        assert_eq!(t.public_labels().to_string(), r#"{instance="host:80", job="j"}"#);
    }

    #[test]
    fn relabel_drop_and_errors() {
        let c = cfg(
            "  relabel_configs: [{source_labels: [__address__], regex: 'drop.*', action: drop}]\n",
        );
        let rc = config::compile_relabel_configs(&c.relabel_configs).unwrap();
        let got = populate_labels(&Labels::new([("__address__", "drop:1")]), &c, &rc).unwrap();
        assert!(matches!(got, Populated::Dropped { .. }));
        assert_eq!(populate_labels(&Labels::empty(), &c, &rc).unwrap_err(), "no address");
        let e = populate_labels(&Labels::new([("__address__", "a/b:1")]), &c, &rc).unwrap_err();
        assert!(e.contains("not a valid hostname"));
    }

    #[test]
    fn offsets_are_stable_and_within_interval() {
        let t = Target::new(
            Labels::new([("__address__", "a:1")]),
            Labels::empty(),
            &Default::default(),
        );
        let o1 = t.offset(15_000, 1_000_000, Spread::EXACT);
        assert!((0..=15_000).contains(&o1));
        assert_eq!(t.offset(15_000, 1_000_000, Spread::EXACT), o1);
        let spread = Spread::for_pool("j", 1, 10, 15_000);
        let o2 = t.offset(15_000, 1_000_000, spread);
        assert!((0..=15_000).contains(&o2));
        assert_eq!(t.offset(15_000, 1_000_000, spread), o2);
    }
}
