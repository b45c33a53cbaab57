//! Randomized differential test of target relabeling against a real Prometheus: random target
//! groups and `relabel_configs` lists (every action, missing source labels, Go regex and `$`
//! expansion corners, templated target labels, unicode and newline values) are written as one job
//! per case. `promtool check config` and Pharos' `config::check` must reject the same cases; the
//! accepted ones run in Prometheus and in Pharos' scrape manager, and `/api/v1/targets?state=any`
//! must show the same active targets (labels and discovered labels) and dropped targets per job.
//!
//! A second test does the same for `metric_relabel_configs`: one job per random list scrapes a
//! small exposition served by the test, and both must store the same series.
//!
//! Seeds 1..=6 run by default; `PHAROS_RELABEL_SEEDS=N` runs seeds 1..=N. Fixed cases (past
//! differences) always run. With many seeds, a case where two target groups yield the same
//! target may differ in the discovered labels shown: Prometheus keeps those of the last one in
//! its (random) map order of groups.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use scrape::{Manager, ManagerOptions};
use storage::MemStorage;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
const CASES_PER_SEED: usize = 30;

/// Past differences, kept as fixed cases: (target groups YAML, relabel_configs YAML).
const FIXED: &[(&str, &str)] = &[
    // Default port only where Go's SplitHostPort fails and succeeds with ":1234" appended.
    (
        "  - targets: ['[127.0.0.5', '127.0.0.4]x', '[::1]', '::1', 'a:b:c', '127.0.0.3:', h]\n",
        "  - {action: labeldrop, regex: nothing}\n",
    ),
    // Prometheus 2.42 shows discovered labels overwritten in place by relabeling.
    (
        "  - targets: ['[::1]']\n    labels: {job: x, env: y}\n  - targets: ['127.0.0.1:9']\n",
        "  - {action: hashmod, source_labels: [env], target_label: h, modulus: 1000}\n",
    ),
    (
        "  - targets: ['127.0.0.3:', '[127.0.0.5']\n    labels: {a: 'Foo;bar', env: /p/q, __tmp: '042'}\n",
        "  - {action: lowercase, source_labels: [job, __tmp], separator: '', target_label: job}\n  - {action: labelkeep, regex: '[^_].*|__.*__'}\n  - {action: drop, source_labels: [env], regex: nothing}\n",
    ),
    (
        "  - targets: ['127.0.0.2']\n    labels: {__meta_x: a, b: c}\n",
        "  - {action: labeldrop, regex: __meta_x}\n  - {action: replace, target_label: t, replacement: v}\n  - {action: drop, source_labels: [t], regex: v}\n",
    ),
    // Duplicates show the discovered labels of the last one (within a group: across groups
    // Prometheus' order is its map iteration order, so random).
    (
        "  - targets: ['127.0.0.1:9', '127.0.0.1:8', '127.0.0.1:7']\n",
        "  - {target_label: __address__, replacement: '127.0.0.1:1'}\n",
    ),
    // Go's $ expansion and the deletion of the unexpanded target_label.
    (
        "  - targets: ['127.0.0.1:9']\n    labels: {a: foo, t_foo: keep, b: x}\n",
        "  - {source_labels: [a], regex: '(f)(o+)', target_label: r1, replacement: '$01|$1é|${a-b}|${1|$2$$'}\n  - {source_labels: [a], target_label: 't_$1', replacement: ''}\n  - {source_labels: [b], target_label: '${1}', replacement: v}\n  - {source_labels: [a], regex: '(?P<n>f)(.*)', target_label: '${n}_$2', replacement: '${n}$10'}\n",
    ),
    // Go's simple case mapping; '.' does not match a newline.
    (
        "  - targets: ['127.0.0.1:9']\n    labels: {a: 'straße İSTANBUL ΣΑΣ ΟΔΟΣ ᾳ ǅ', n: \"a\\nb\"}\n",
        "  - {action: uppercase, source_labels: [a], target_label: up}\n  - {action: lowercase, source_labels: [a], target_label: '${1}lo'}\n  - {source_labels: [n], regex: 'a.b', target_label: dot}\n  - {source_labels: [n], regex: '(?s)a.b', target_label: dots}\n",
    ),
    // Validation: accepted by Prometheus...
    (
        "  - targets: ['127.0.0.1:9']\n",
        "  - {action: keepequal, source_labels: [job], target_label: '$1'}\n  - {action: dropequal, source_labels: [instance], target_label: '${1}x'}\n  - {action: labelmap, regex: '(?:a)?(b)?', replacement: '${2}_${1}'}\n",
    ),
    // ... and rejected.
    (
        "  - targets: ['127.0.0.1:9']\n",
        "  - {action: uppercase, target_label: t, replacement: x}\n",
    ),
    ("  - targets: ['127.0.0.1:9']\n", "  - {action: keepequal, target_label: t, regex: '(.*)'}\n"),
    (
        "  - targets: ['127.0.0.1:9']\n",
        "  - {action: keepequal, target_label: t, separator: ','}\n",
    ),
    ("  - targets: ['127.0.0.1:9']\n", "  - {action: labeldrop, regex: a, source_labels: []}\n"),
    ("  - targets: ['127.0.0.1:9']\n", "  - {action: drop, regex: 'a**'}\n"),
    ("  - targets: ['127.0.0.1:9']\n", "  - {action: drop, regex: 'a{2}*'}\n"),
    ("  - targets: ['127.0.0.1:9']\n", "  - {action: hashmod, target_label: '$1', modulus: 2}\n"),
    // Go's capture names: may start with a digit; no (?<name>) form before Go 1.22.
    (
        "  - targets: ['127.0.0.1:9']\n    labels: {a: ab}\n",
        "  - {source_labels: [a], regex: '(a)(?P<1x>b)', target_label: t, replacement: '$1x|${1}|$2'}\n",
    ),
    ("  - targets: ['127.0.0.1:9']\n", "  - {action: drop, regex: '(?<y>b)'}\n"),
    ("  - targets: ['127.0.0.1:9']\n", "  - {action: drop, regex: '(?P<a.b>x)'}\n"),
    // promtool checks the targets: no address, invalid scheme.
    ("  - targets: ['127.0.0.1:9']\n", "  - {target_label: __address__, replacement: ''}\n"),
    ("  - targets: [h]\n", "  - {target_label: __scheme__, replacement: ftp}\n"),
];

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn installed(bin: &str) -> bool {
    if std::path::Path::new(bin).exists() {
        return true;
    }
    assert!(std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() != Ok("1"), "{bin} not installed");
    println!("skipped: prometheus not installed");
    false
}

/// splitmix64: small, seedable, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

const NAMES: &[&str] = &[
    "a",
    "b",
    "c",
    "env",
    "Foo",
    "job",
    "instance",
    "__meta_x",
    "__meta_sd_y",
    "__scheme__",
    "__metrics_path__",
    "__param_q",
    "__address__",
    "__tmp",
];
const VALUES: &[&str] = &[
    "",
    "x",
    "foo",
    "FOO",
    "Foo;bar",
    "a;b",
    "1",
    "042",
    "127.0.0.1:9",
    "127.0.0.2",
    "a\nb",
    "$1",
    "https",
    "http",
    "ftp",
    "/p/q",
    "Ünïcödé",
    "İSTANBUL",
    "straße",
    "ΣΑΣ ΟΔΟΣ",
    "ǅ",
    " sp ",
    "__meta_x",
    "ﬀ",
    "ᾳ",
];
const ADDRESSES: &[&str] = &[
    "127.0.0.1:9",
    "127.0.0.2",
    "127.0.0.3:",
    "[::1]:9",
    "[::1]",
    "::1",
    "localhost",
    "127.0.0.4]x",
    "[127.0.0.5",
    "a:b:c",
    "ÿ.local",
];
const REGEXES: &[&str] = &[
    "(.*)",
    ".*",
    "foo",
    "f.*",
    "(f)(o+)",
    "(?P<n>[a-z]+);(.*)",
    "x|foo|",
    "[[:alpha:]]+",
    "\\d+",
    "(?i)FOO",
    "a\\.b",
    ".+",
    "(.*);(.*)",
    "__meta_(.*)",
    "__(.+)",
    "(__param_)(.*)",
    "[^;]*",
    "()",
    "(?:a)?(b)?",
    "\\w+",
    "(Σ.*)",
    "",
    "a\\nb|(a.b)",
    "(?s)(a.b)",
    "127\\.0\\.0\\.1:(\\d+)",
    "(.*):(\\d*)",
    "(?U)(.+)(.+)",
    "(a)(?P<1x>b)?",
    "\\pL+",
    "(",
    "a{2,1}",
    "\\C",
    "a**",
    "(?P<1>x)",
    "(?<y>b)",
    "[z-a]",
    "x{1001}",
    "\\8",
];
const REPLACEMENTS: &[&str] = &[
    "$1",
    "${1}",
    "$2",
    "$n",
    "${n}",
    "$$",
    "x$1y",
    "$1x",
    "${1}x",
    "$01",
    "$",
    "${",
    "${a-b}",
    "",
    "static",
    "$0",
    "$1é",
    "${2}_${1}",
    "$10",
    "${1}${2}",
    "127.0.0.1:${1}",
    "$1:80",
    "m_$1",
    "${1",
];
const TARGETS: &[&str] = &[
    "t",
    "job",
    "instance",
    "__address__",
    "__scheme__",
    "__metrics_path__",
    "__param_x",
    "${1}",
    "$1",
    "t_$1",
    "__meta_z",
    "1bad",
    "bad-name",
    "$n",
    "",
    "${1}x",
    "${2}",
    "$01",
    "_",
    "Foo",
];
const SEPARATORS: &[&str] = &[";", "", ",", "::", "\n"];
const ACTIONS: &[&str] = &[
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
    "Replace",
];

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn gen_labels(rng: &mut Rng, n: usize) -> String {
    let mut parts = Vec::new();
    let mut seen = BTreeSet::new();
    for _ in 0..n {
        let name = rng.pick(NAMES);
        if name == "__address__" || !seen.insert(name) {
            continue;
        }
        parts.push(format!("{}: {}", q(name), q(rng.pick(VALUES))));
    }
    format!("{{{}}}", parts.join(", "))
}

fn gen_groups(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..1 + rng.below(2) {
        let targets: Vec<String> = (0..1 + rng.below(3)).map(|_| q(rng.pick(ADDRESSES))).collect();
        let n = rng.below(5);
        out.push_str(&format!(
            "  - targets: [{}]\n    labels: {}\n",
            targets.join(", "),
            gen_labels(rng, n)
        ));
    }
    out
}

fn gen_rule(rng: &mut Rng, names: &[&str]) -> String {
    let action = rng.pick(ACTIONS);
    let lower = action.to_ascii_lowercase();
    let label_action = matches!(lower.as_str(), "labelmap" | "labeldrop" | "labelkeep");
    let equal_action = matches!(lower.as_str(), "keepequal" | "dropequal");
    let mut f = vec![format!("action: {action}")];
    // Mostly the fields an action uses, sometimes any field (to exercise validation).
    let wild = rng.chance(8);
    if (!label_action || wild) && rng.chance(90) {
        let n = 1 + rng.below(3);
        let src: Vec<String> =
            (0..n).map(|_| q(if rng.chance(15) { "missing" } else { rng.pick(names) })).collect();
        f.push(format!("source_labels: [{}]", src.join(", ")));
    }
    if (!equal_action && !label_action || wild) && rng.chance(30) {
        f.push(format!("separator: {}", q(rng.pick(SEPARATORS))));
    }
    if (!equal_action || wild) && rng.chance(80) {
        let mut re = rng.pick(REGEXES);
        // Invalid regexes only now and then, so most cases reach the server.
        let first_invalid = REGEXES.iter().position(|r| *r == "(").unwrap();
        while REGEXES.iter().position(|r| *r == re).unwrap() >= first_invalid && !rng.chance(20) {
            re = rng.pick(REGEXES);
        }
        f.push(format!("regex: {}", q(re)));
    }
    let wants_target = !label_action && !matches!(lower.as_str(), "keep" | "drop");
    if (wants_target || wild) && rng.chance(95) {
        let t = if lower == "hashmod" && rng.chance(60) { "h" } else { rng.pick(TARGETS) };
        f.push(format!("target_label: {}", q(t)));
    }
    if (lower == "replace" || lower == "labelmap" || wild) && rng.chance(80) {
        f.push(format!("replacement: {}", q(rng.pick(REPLACEMENTS))));
    }
    if (lower == "hashmod" || wild) && rng.chance(90) {
        let m = ["1", "3", "1000", "18446744073709551615", "0"];
        f.push(format!("modulus: {}", m[rng.below(m.len())]));
    }
    format!("  - {{{}}}\n", f.join(", "))
}

struct Case {
    name: String,
    /// Job options (params, scheme, metrics_path) as YAML lines.
    options: String,
    groups: String,
    relabel: String,
}

impl Case {
    fn job_yaml(&self) -> String {
        format!(
            "- job_name: {}\n  scrape_interval: 1d\n{}  static_configs:\n{}  relabel_configs:\n{}",
            self.name, self.options, self.groups, self.relabel
        )
    }
}

/// Job options that feed the discovered labels: params (the first value of each, an empty one
/// deletes), scheme and metrics_path.
fn gen_options(rng: &mut Rng) -> String {
    let mut out = String::new();
    if rng.chance(25) {
        let params = ["{q: [v1, v2]}", "{q: ['']}", "{x: [é], q: [a, b]}", "{module: [m]}"];
        out.push_str(&format!("  params: {}\n", params[rng.below(params.len())]));
    }
    if rng.chance(15) {
        out.push_str("  scheme: https\n");
    }
    if rng.chance(10) {
        out.push_str("  metrics_path: /m\n");
    }
    out
}

fn gen_cases(seeds: u64) -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, (groups, relabel)) in FIXED.iter().enumerate() {
        cases.push(Case {
            name: format!("fixed_{i}"),
            options: String::new(),
            groups: groups.to_string(),
            relabel: relabel.to_string(),
        });
    }
    for seed in 1..=seeds {
        let mut rng = Rng(seed);
        for i in 0..CASES_PER_SEED {
            let groups = gen_groups(&mut rng);
            let relabel: String =
                (0..1 + rng.below(4)).map(|_| gen_rule(&mut rng, NAMES)).collect();
            let options = gen_options(&mut Rng(seed * 7919 + i as u64));
            cases.push(Case { name: format!("s{seed}_{i}"), options, groups, relabel });
        }
    }
    cases
}

/// Per job: sorted active (labels, discovered labels) and sorted dropped discovered labels.
type LabelMap = BTreeMap<String, String>;
type View = BTreeMap<String, (Vec<(LabelMap, LabelMap, String)>, Vec<LabelMap>)>;

fn json_labels(v: &serde_json::Value) -> LabelMap {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn prometheus_view(body: &serde_json::Value) -> View {
    let mut view = View::new();
    for t in body["data"]["activeTargets"].as_array().unwrap() {
        let job = t["scrapePool"].as_str().unwrap().to_string();
        view.entry(job).or_default().0.push((
            json_labels(&t["labels"]),
            json_labels(&t["discoveredLabels"]),
            t["scrapeUrl"].as_str().unwrap().to_string(),
        ));
    }
    for t in body["data"]["droppedTargets"].as_array().unwrap() {
        let d = json_labels(&t["discoveredLabels"]);
        view.entry(d.get("job").cloned().unwrap_or_default()).or_default().1.push(d);
    }
    for v in view.values_mut() {
        v.0.sort();
        v.1.sort();
    }
    view
}

fn model_labels(l: &model::Labels) -> LabelMap {
    l.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect()
}

fn pharos_view(mgr: &Manager) -> View {
    let t = mgr.targets();
    let mut view = View::new();
    for a in &t.active {
        view.entry(a.scrape_pool.clone()).or_default().0.push((
            model_labels(&a.labels),
            model_labels(&a.discovered_labels),
            a.scrape_url.clone(),
        ));
    }
    // Prometheus 2.42 lists dropped targets without their pool: group them by their job label.
    for d in &t.dropped {
        let job = d.discovered_labels.get("job").unwrap_or("").to_string();
        view.entry(job).or_default().1.push(model_labels(&d.discovered_labels));
    }
    for v in view.values_mut() {
        v.0.sort();
        v.1.sort();
    }
    view
}

/// promtool's verdict per case file: `None` if valid, else its error. It prints
/// `SUCCESS: <file> is valid` on stdout for each valid file and one `FAILED: ...` line on stderr
/// for each invalid one, in order.
fn promtool_verdicts(files: &[PathBuf]) -> BTreeMap<PathBuf, Option<String>> {
    let mut out = BTreeMap::new();
    for chunk in files.chunks(100) {
        let res = Command::new(PROMTOOL).args(["check", "config"]).args(chunk).output().unwrap();
        let stdout = String::from_utf8_lossy(&res.stdout);
        let stderr = String::from_utf8_lossy(&res.stderr);
        let mut failed = stderr.lines().filter(|l| l.contains("FAILED:"));
        for f in chunk {
            let ok = stdout.contains(&format!("SUCCESS: {} is valid", f.display()));
            let err = (!ok).then(|| failed.next().unwrap_or("FAILED").trim().to_string());
            out.insert(f.clone(), err);
        }
    }
    out
}

/// `pharos check config`: the configuration loads and its targets all populate. The error says
/// which: `FAILED: instance ...` for a target, as promtool words it.
fn pharos_check(f: &Path) -> Result<(), String> {
    config::check(f).map_err(|e| e.to_string())?;
    let cfg = config::load(f).map_err(|e| e.to_string())?;
    scrape::check_config_targets(&cfg).map_err(|e| format!("FAILED: {e}"))
}

/// Rejected only for a target (the server still loads the configuration)?
fn target_failure(e: &str) -> bool {
    e.contains("FAILED: instance ")
}

async fn get_json(url: &str) -> Option<serde_json::Value> {
    let client = reqwest::Client::builder().no_proxy().build().ok()?;
    client.get(url).send().await.ok()?.json().await.ok()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const SENTINEL: &str = "- job_name: sentinel\n  scrape_interval: 1d\n  static_configs:\n  - targets: ['127.0.0.1:9']\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relabeling_matches_prometheus() {
    if !installed(PROMETHEUS) || !installed(PROMTOOL) {
        return;
    }
    let seeds =
        std::env::var("PHAROS_RELABEL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
    let cases = gen_cases(seeds);
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();

    // 1. Both must reject the same configurations.
    let files: Vec<_> = cases
        .iter()
        .map(|c| {
            let p = dir.path().join(format!("{}.yml", c.name));
            std::fs::write(&p, format!("scrape_configs:\n{}", c.job_yaml())).unwrap();
            p
        })
        .collect();
    let theirs = promtool_verdicts(&files);
    let mut accepted = Vec::new();
    for (c, f) in cases.iter().zip(&files) {
        let ours = pharos_check(f);
        let prom = &theirs[f];
        let stage = |e: Option<&String>| e.map(|e| target_failure(e));
        if stage(prom.as_ref()) != stage(ours.as_ref().err()) {
            failures.push(format!(
                "check config differs for {}: promtool {prom:?}, pharos {ours:?}\n{}",
                c.name,
                c.job_yaml()
            ));
        // Configurations rejected only for a target's labels still load in the server.
        } else if prom.as_ref().is_none_or(|e| target_failure(e)) {
            accepted.push(c);
        }
    }
    println!("{} cases, {} loaded by both", cases.len(), accepted.len());

    // 2. The valid ones: same targets.
    let mut yaml = String::from("scrape_configs:\n");
    yaml.push_str(SENTINEL);
    for c in &accepted {
        yaml.push_str(&c.job_yaml());
    }
    let cfg_path = dir.path().join("prometheus.yml");
    std::fs::write(&cfg_path, &yaml).unwrap();
    let port = free_port();
    let _prom = Proc(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", cfg_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mgr = Manager::new(Arc::new(MemStorage::new()), ManagerOptions::default());
    mgr.apply_config(&config::load(&cfg_path).unwrap()).unwrap();

    // Prometheus syncs targets from discovery every 5 s: wait for the sentinel, then for a view
    // that stays the same across a sync.
    let url = format!("http://127.0.0.1:{port}/api/v1/targets?state=any");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut last: Option<View> = None;
    let prom = loop {
        assert!(tokio::time::Instant::now() < deadline, "prometheus targets did not settle");
        let view = get_json(&url).await.map(|b| prometheus_view(&b));
        match (&view, &last) {
            (Some(v), Some(l)) if v == l && v.contains_key("sentinel") => break view.unwrap(),
            _ => {}
        }
        let had_sentinel = view.as_ref().is_some_and(|v| v.contains_key("sentinel"));
        last = view;
        let wait = if had_sentinel { 5500 } else { 200 };
        tokio::time::sleep(Duration::from_millis(wait)).await;
    };
    let ours = pharos_view(&mgr);
    mgr.stop();

    let keys: BTreeSet<&String> = prom.keys().chain(ours.keys()).collect();
    for key in keys {
        let empty = (Vec::new(), Vec::new());
        let p = prom.get(key).unwrap_or(&empty);
        let o = ours.get(key).unwrap_or(&empty);
        if p != o {
            let yaml = accepted.iter().find(|c| &c.name == key).map(|c| c.job_yaml());
            failures.push(format!(
                "targets differ for {key}:\n{}prometheus: {p:#?}\npharos: {o:#?}",
                yaml.unwrap_or_default()
            ));
        }
    }
    for f in &failures {
        println!("{f}\n");
    }
    assert!(failures.is_empty(), "{} of {} cases differ", failures.len(), cases.len());
}

const METRIC_NAMES: &[&str] = &["__name__", "a", "b", "c", "job", "instance", "le", "__tmp"];
const EXPOSITION: &str = "# TYPE m_total counter\nm_total{a=\"x\",b=\"foo\"} 1\nm_total{a=\"FOO\",b=\"straße\"} 2\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\nother{job=\"exposed\",instance=\"i\",c=\"a\\nb\"} 3\nx_y{a=\"İSTANBUL\",b=\"\"} 4\n";

/// Label sets of every series in Prometheus.
async fn prometheus_series(base: &str) -> BTreeSet<String> {
    let url = format!("{base}/api/v1/series?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D");
    let body = get_json(&url).await.unwrap();
    body["data"].as_array().unwrap().iter().map(|s| format!("{:?}", json_labels(s))).collect()
}

fn pharos_series(storage: &MemStorage) -> BTreeSet<String> {
    use storage::Queryable;
    let m = model::Matcher::new(model::MatchType::Regex, "__name__", ".+").unwrap();
    let q = storage.querier(i64::MIN, i64::MAX).unwrap();
    q.select(false, None, &[m])
        .unwrap()
        .map(|s| format!("{:?}", model_labels(&s.unwrap().labels)))
        .collect()
}

fn count_up(storage: &MemStorage) -> usize {
    pharos_series(storage).iter().filter(|s| s.starts_with("{\"__name__\": \"up\"")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_relabeling_matches_prometheus() {
    if !installed(PROMETHEUS) || !installed(PROMTOOL) {
        return;
    }
    let seeds =
        std::env::var("PHAROS_RELABEL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
    let server = common::Server::start().await;
    server.set("/metrics", common::Resp::text(EXPOSITION));
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for seed in 1..=seeds {
        let mut rng = Rng(seed + 1000);
        for i in 0..CASES_PER_SEED {
            let rules: String =
                (0..1 + rng.below(3)).map(|_| gen_rule(&mut rng, METRIC_NAMES)).collect();
            let honor = rng.chance(30);
            jobs.push(format!(
                "- job_name: m{seed}_{i}\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  honor_labels: {honor}\n  static_configs: [{{targets: ['{}']}}]\n  metric_relabel_configs:\n{rules}",
                server.addr
            ));
        }
    }
    let files: Vec<PathBuf> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let p = dir.path().join(format!("m{i}.yml"));
            std::fs::write(&p, format!("scrape_configs:\n{j}")).unwrap();
            p
        })
        .collect();
    let theirs = promtool_verdicts(&files);
    let mut failures = Vec::new();
    let mut yaml = String::from("scrape_configs:\n");
    let mut loaded = 0;
    for (j, f) in jobs.iter().zip(&files) {
        let ours = pharos_check(f);
        match (&theirs[f], &ours) {
            (None, Ok(())) => {
                yaml.push_str(j);
                loaded += 1;
            }
            (Some(_), Err(_)) => {}
            (prom, ours) => failures
                .push(format!("check config differs: promtool {prom:?}, pharos {ours:?}\n{j}")),
        }
    }
    println!("{} metric relabeling cases, {loaded} loaded by both", jobs.len());
    let cfg_path = dir.path().join("prometheus.yml");
    std::fs::write(&cfg_path, &yaml).unwrap();
    let port = free_port();
    let _prom = Proc(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", cfg_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let storage = MemStorage::new();
    let mgr = Manager::new(Arc::new(storage.clone()), ManagerOptions::default());
    mgr.apply_config(&config::load(&cfg_path).unwrap()).unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = get_json(&format!("{base}/api/v1/query?query=count(up)"))
            .await
            .and_then(|v| v["data"]["result"][0]["value"][1].as_str().map(str::to_string))
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0);
        if n >= loaded && count_up(&storage) >= loaded {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "scrapes did not happen");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    mgr.stop();
    let theirs = prometheus_series(&base).await;
    let ours = pharos_series(&storage);
    for s in theirs.difference(&ours) {
        failures.push(format!("only in prometheus: {s}"));
    }
    for s in ours.difference(&theirs) {
        failures.push(format!("only in pharos: {s}"));
    }
    if !failures.is_empty() {
        println!("config:\n{yaml}");
    }
    for f in &failures {
        println!("{f}");
    }
    assert!(failures.is_empty(), "{} differences", failures.len());
}
