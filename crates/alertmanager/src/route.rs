//! The routing tree: matchers, `continue`, inherited options and Alertmanager's route keys.

use std::collections::BTreeMap;

use model::{Labels, MatchType};

use crate::config::RouteConfig;
use crate::error::Error;
use crate::matchers::{Matchers, new_matcher, parse_matchers};

/// Alertmanager's defaults for the root route.
pub const DEFAULT_GROUP_WAIT_MS: i64 = 30_000;
pub const DEFAULT_GROUP_INTERVAL_MS: i64 = 5 * 60_000;
pub const DEFAULT_REPEAT_INTERVAL_MS: i64 = 4 * 3_600_000;

/// The options a route passes to its aggregation groups.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteOpts {
    pub receiver: String,
    /// Sorted label names to group by.
    pub group_by: Vec<String>,
    /// `group_by: ['...']`: every label.
    pub group_by_all: bool,
    pub group_wait_ms: i64,
    pub group_interval_ms: i64,
    pub repeat_interval_ms: i64,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
}

/// One compiled node of the routing tree.
#[derive(Clone, Debug)]
pub struct Route {
    /// Position in depth-first order (the root is 0); stable for one config.
    pub index: usize,
    /// Alertmanager's route key, e.g. `{}/{severity="page"}`; the prefix of group keys.
    pub key: String,
    pub matchers: Matchers,
    pub continue_: bool,
    pub opts: RouteOpts,
    pub routes: Vec<Route>,
}

impl Route {
    /// Compiles the tree from the `route` section.
    pub fn build(cfg: &RouteConfig) -> Result<Route, Error> {
        let defaults = RouteOpts {
            receiver: String::new(),
            group_by: Vec::new(),
            group_by_all: false,
            group_wait_ms: DEFAULT_GROUP_WAIT_MS,
            group_interval_ms: DEFAULT_GROUP_INTERVAL_MS,
            repeat_interval_ms: DEFAULT_REPEAT_INTERVAL_MS,
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
        };
        let mut next_index = 0;
        build_node(cfg, &defaults, None, &mut next_index)
    }

    /// The routes an alert with `labels` goes to, in tree order.
    pub fn matching(&self, labels: &Labels) -> Vec<&Route> {
        let mut out = Vec::new();
        self.match_into(labels, &mut out);
        out
    }

    fn match_into<'a>(&'a self, labels: &Labels, out: &mut Vec<&'a Route>) -> bool {
        if !self.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for child in &self.routes {
            if child.match_into(labels, out) && !child.continue_ {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }

    /// Visits every route depth-first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Route)) {
        f(self);
        for c in &self.routes {
            c.walk(f);
        }
    }

    /// The group labels of an alert on this route.
    pub fn group_labels(&self, labels: &Labels) -> Labels {
        if self.opts.group_by_all {
            return labels.clone();
        }
        labels.keep_names(&self.opts.group_by)
    }
}

fn build_node(
    cfg: &RouteConfig,
    parent: &RouteOpts,
    parent_key: Option<&str>,
    next: &mut usize,
) -> Result<Route, Error> {
    let index = *next;
    *next += 1;
    let mut opts = parent.clone();
    if let Some(r) = &cfg.receiver {
        opts.receiver = r.clone();
    }
    if let Some(g) = &cfg.group_by {
        set_group_by(&mut opts, g)?;
    }
    for (field, value) in [
        (&mut opts.group_wait_ms, cfg.group_wait),
        (&mut opts.group_interval_ms, cfg.group_interval),
        (&mut opts.repeat_interval_ms, cfg.repeat_interval),
    ] {
        if let Some(d) = value {
            *field = d.0;
        }
    }
    if opts.group_interval_ms <= 0 {
        return Err(Error::config("group_interval cannot be zero"));
    }
    if opts.repeat_interval_ms <= 0 {
        return Err(Error::config("repeat_interval cannot be zero"));
    }
    opts.mute_time_intervals = cfg.mute_time_intervals.clone();
    opts.active_time_intervals = cfg.active_time_intervals.clone();
    let matchers = route_matchers(cfg)?;
    let key = match parent_key {
        Some(p) => format!("{p}/{matchers}"),
        None => matchers.to_string(),
    };
    let mut routes = Vec::with_capacity(cfg.routes.len());
    for c in &cfg.routes {
        routes.push(build_node(c, &opts, Some(&key), next)?);
    }
    Ok(Route { index, key, matchers, continue_: cfg.continue_, opts, routes })
}

/// Alertmanager's `group_by`: checks in its order (label names, then `...` mixed with
/// names, then duplicates; `['...', '...']` alone is fine), then its inheritance: a list with
/// names replaces the parent's grouping, `['...']` groups by every label, and an empty list
/// changes nothing (the parent's grouping is kept, as `NewRoute` sees no names).
fn set_group_by(opts: &mut RouteOpts, g: &[String]) -> Result<(), Error> {
    let mut names = Vec::new();
    let mut all = false;
    for n in g {
        if n == "..." {
            all = true;
        } else if !crate::matchers::valid_label_name(n) {
            return Err(Error::config(format!("invalid label name {n:?} in group_by list")));
        } else {
            names.push(n.clone());
        }
    }
    if all && !names.is_empty() {
        return Err(Error::config(
            "cannot have wildcard group_by (`...`) and other other labels at the same time",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(d) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(Error::config(format!("duplicated label {d:?} in group_by")));
    }
    if !names.is_empty() {
        names.sort();
        opts.group_by = names;
        opts.group_by_all = false;
    } else if all {
        opts.group_by_all = true;
    }
    Ok(())
}

/// Builds a sorted matcher list from `match`, `match_re` and `matchers`.
pub fn legacy_and_new_matchers(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
    list: &[String],
) -> Result<Matchers, Error> {
    let mut ms = Vec::new();
    for (n, v) in eq {
        ms.push(new_matcher(MatchType::Equal, n, v)?);
    }
    for (n, v) in re {
        ms.push(new_matcher(MatchType::Regex, n, v)?);
    }
    for s in list {
        ms.extend(parse_matchers(s)?.0);
    }
    let mut ms = Matchers(ms);
    ms.sort();
    Ok(ms)
}

fn route_matchers(cfg: &RouteConfig) -> Result<Matchers, Error> {
    legacy_and_new_matchers(&cfg.match_, &cfg.match_re, &cfg.matchers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(yaml: &str) -> Route {
        let cfg: RouteConfig = serde_saphyr::from_str(yaml).unwrap();
        Route::build(&cfg).unwrap()
    }

    const TREE: &str = r#"
receiver: default
group_by: [alertname]
routes:
- matchers: ['team="a"']
  receiver: a
  continue: true
  group_wait: 10s
- match: {team: a}
  match_re: {severity: "crit.*"}
  receiver: a-crit
  group_by: ['...']
- matchers: ['team=~"b|c"']
  receiver: bc
  routes:
  - matchers: ['severity="page"']
    receiver: bc-page
"#;

    fn receivers(r: &Route, labels: &[(&str, &str)]) -> Vec<String> {
        r.matching(&Labels::new(labels.iter().copied()))
            .iter()
            .map(|r| r.opts.receiver.clone())
            .collect()
    }

    #[test]
    fn continue_and_fallback() {
        let r = tree(TREE);
        assert_eq!(receivers(&r, &[("team", "a"), ("severity", "critical")]), ["a", "a-crit"]);
        assert_eq!(receivers(&r, &[("team", "a")]), ["a"]);
        assert_eq!(receivers(&r, &[("team", "c")]), ["bc"]);
        assert_eq!(receivers(&r, &[("team", "b"), ("severity", "page")]), ["bc-page"]);
        assert_eq!(receivers(&r, &[("team", "z")]), ["default"]);
    }

    #[test]
    fn inheritance_and_keys() {
        let r = tree(TREE);
        assert_eq!(r.key, "{}");
        assert_eq!(r.routes[1].key, r#"{}/{severity=~"crit.*",team="a"}"#);
        assert_eq!(r.routes[0].opts.group_wait_ms, 10_000);
        assert_eq!(r.routes[0].opts.group_by, ["alertname"]);
        assert!(r.routes[1].opts.group_by_all);
        assert_eq!(r.routes[2].routes[0].opts.group_wait_ms, DEFAULT_GROUP_WAIT_MS);
        assert_eq!(r.routes[2].routes[0].key, r#"{}/{team=~"b|c"}/{severity="page"}"#);
    }

    #[test]
    fn group_by_wildcard_must_be_alone() {
        let cfg: RouteConfig = serde_saphyr::from_str("receiver: x\ngroup_by: ['...', a]").unwrap();
        assert!(Route::build(&cfg).is_err());
        // Alertmanager accepts the wildcard twice.
        let cfg: RouteConfig =
            serde_saphyr::from_str("receiver: x\ngroup_by: ['...', '...']").unwrap();
        assert!(Route::build(&cfg).unwrap().opts.group_by_all);
    }

    #[test]
    fn empty_group_by_inherits() {
        // Alertmanager's NewRoute only replaces the grouping when the list names labels.
        let r = tree("receiver: x\ngroup_by: [a]\nroutes:\n- group_by: []\n- group_by: [b]\n");
        assert_eq!(r.routes[0].opts.group_by, ["a"]);
        assert_eq!(r.routes[1].opts.group_by, ["b"]);
        let r = tree("receiver: x\ngroup_by: ['...']\nroutes:\n- group_by: []\n");
        assert!(r.routes[0].opts.group_by_all);
    }
}
