//! Library side of `pharos check alertmanager FILE` (like `amtool check-config`) and
//! `pharos route test LABELS...` (like `amtool config routes test`).

use model::Labels;

use crate::config::Config;
use crate::error::Error;
use crate::matchers::parse_matcher;
use crate::route::Route;
use crate::template::Templates;

/// What a valid config contains, printed by `pharos check alertmanager`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckSummary {
    pub global: bool,
    pub route: bool,
    pub inhibit_rules: usize,
    pub receivers: usize,
    pub templates: usize,
    /// Integrations present in the file that Pharos does not deliver to.
    pub warnings: Vec<String>,
}

impl CheckSummary {
    /// The report in `amtool check-config`'s words.
    pub fn render(&self, path: &str) -> String {
        let mut s = format!("Checking '{path}'  SUCCESS\nFound:\n");
        if self.global {
            s.push_str(" - global config\n");
        }
        if self.route {
            s.push_str(" - route\n");
        }
        s.push_str(&format!(" - {} inhibit rules\n", self.inhibit_rules));
        s.push_str(&format!(" - {} receivers\n", self.receivers));
        s.push_str(&format!(" - {} templates\n", self.templates));
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        s
    }
}

/// Loads and validates a config file including its templates.
pub fn check_config_file(path: &str) -> Result<CheckSummary, Error> {
    let cfg = Config::load_file(path)?;
    let templates = Templates::from_config(&cfg)?;
    let warnings = cfg
        .receivers
        .iter()
        .flat_map(|r| {
            r.unsupported()
                .into_iter()
                .map(move |k| format!("receiver {:?}: {k} are not delivered by Pharos", r.name))
        })
        .collect();
    Ok(CheckSummary {
        global: true,
        route: cfg.route.is_some(),
        inhibit_rules: cfg.inhibit_rules.len(),
        receivers: cfg.receivers.len(),
        templates: templates.file_count(),
        warnings,
    })
}

/// Parses `amtool config routes test` label arguments as amtool does: each argument is one
/// `name=value` matcher (so `a=x,y` is the value `x,y`, and `{a="b"}` is refused), a later
/// argument for the same name wins.
pub fn parse_label_args(args: &[String]) -> Result<Labels, Error> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(args.len());
    for a in args {
        let m = parse_matcher(a)?;
        if m.op != model::MatchType::Equal {
            return Err(Error::Matcher("labels must be specified as key=value pairs".into()));
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    Ok(Labels::new(pairs))
}

/// The receivers a label set reaches, in tree order (`amtool config routes test`).
pub fn route_test(cfg: &Config, labels: &Labels) -> Result<Vec<String>, Error> {
    let route_cfg = cfg.route.as_ref().ok_or_else(|| Error::config("no routes provided"))?;
    let route = Route::build(route_cfg)?;
    Ok(route.matching(labels).iter().map(|r| r.opts.receiver.clone()).collect())
}

/// `amtool`'s output line: receivers joined by commas.
pub fn render_route_test(receivers: &[String]) -> String {
    receivers.join(",")
}
