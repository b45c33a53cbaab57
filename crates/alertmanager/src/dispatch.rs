//! The dispatcher: aggregation groups per (route, group labels) and their timers.
//!
//! A group flushes first `group_wait` after creation (at once if its first alert started
//! more than `group_wait` ago), then every `group_interval`. Timers live in one ordered set,
//! so [`Dispatcher::due`] costs O(log n) per due group and nothing for idle ones.

use std::collections::{BTreeSet, HashMap};

use model::Labels;

use crate::alert::{Alert, fingerprint};
use crate::route::RouteOpts;

/// Identifies an aggregation group for the lifetime of a dispatcher.
pub type GroupId = u64;

/// One aggregation group.
#[derive(Debug)]
pub struct AggrGroup {
    pub route_index: usize,
    pub labels: Labels,
    /// `routeKey:groupLabels`, e.g. `{}/{team="a"}:{alertname="X"}`.
    pub key: String,
    pub alerts: HashMap<u64, Alert>,
    pub next_flush: i64,
    pub has_flushed: bool,
}

/// What the dispatcher needs to know about a route.
#[derive(Clone, Debug)]
pub struct RouteInfo {
    pub key: String,
    pub opts: RouteOpts,
}

/// All aggregation groups of one config.
#[derive(Debug, Default)]
pub struct Dispatcher {
    groups: HashMap<GroupId, AggrGroup>,
    by_labels: HashMap<(usize, u64), GroupId>,
    timers: BTreeSet<(i64, GroupId)>,
    next_id: GroupId,
}

/// Go's `model.LabelSet.String()`: `{a="b", c="d"}`.
pub fn label_set_string(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, p) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&p.name);
        s.push('=');
        s.push_str(&format!("{:?}", &*p.value));
    }
    s.push('}');
    s
}

impl Dispatcher {
    /// Adds an alert to its group on `route`, creating the group if needed.
    pub fn insert(
        &mut self,
        route: &RouteInfo,
        route_index: usize,
        group_labels: Labels,
        alert: &Alert,
        now: i64,
    ) {
        let gfp = fingerprint(&group_labels);
        let id = match self.by_labels.get(&(route_index, gfp)) {
            Some(id) => *id,
            None => self.create(route, route_index, group_labels, gfp, now),
        };
        let Some(g) = self.groups.get_mut(&id) else { return };
        g.alerts.insert(alert.fingerprint(), alert.clone());
        if !g.has_flushed && alert.starts_at + route.opts.group_wait_ms < now && g.next_flush > now
        {
            self.timers.remove(&(g.next_flush, id));
            g.next_flush = now;
            self.timers.insert((now, id));
        }
    }

    fn create(
        &mut self,
        route: &RouteInfo,
        route_index: usize,
        labels: Labels,
        gfp: u64,
        now: i64,
    ) -> GroupId {
        let id = self.next_id;
        self.next_id += 1;
        let next_flush = now + route.opts.group_wait_ms;
        let key = format!("{}:{}", route.key, label_set_string(&labels));
        let group = AggrGroup {
            route_index,
            labels,
            key,
            alerts: HashMap::new(),
            next_flush,
            has_flushed: false,
        };
        self.groups.insert(id, group);
        self.by_labels.insert((route_index, gfp), id);
        self.timers.insert((next_flush, id));
        id
    }

    /// Pops the groups due at `now`, rescheduling each `group_interval` after its due time
    /// (or after `now` when the tick came later than that).
    pub fn due(&mut self, now: i64, routes: &[RouteInfo]) -> Vec<GroupId> {
        let mut out = Vec::new();
        while let Some(&(t, id)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            let Some(g) = self.groups.get_mut(&id) else { continue };
            let interval = routes.get(g.route_index).map_or(300_000, |r| r.opts.group_interval_ms);
            let next = if t + interval > now { t + interval } else { now + interval };
            g.next_flush = next;
            g.has_flushed = true;
            self.timers.insert((next, id));
            out.push(id);
        }
        out
    }

    /// The earliest pending flush.
    pub fn next_deadline(&self) -> Option<i64> {
        self.timers.first().map(|(t, _)| *t)
    }

    pub fn get(&self, id: GroupId) -> Option<&AggrGroup> {
        self.groups.get(&id)
    }

    pub fn get_mut(&mut self, id: GroupId) -> Option<&mut AggrGroup> {
        self.groups.get_mut(&id)
    }

    /// Deletes a group (and its timer).
    pub fn remove(&mut self, id: GroupId) {
        if let Some(g) = self.groups.remove(&id) {
            self.timers.remove(&(g.next_flush, id));
            self.by_labels.remove(&(g.route_index, fingerprint(&g.labels)));
        }
    }

    pub fn groups(&self) -> impl Iterator<Item = (&GroupId, &AggrGroup)> {
        self.groups.iter()
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Fingerprints of every alert some group still holds.
    pub fn held_fingerprints(&self) -> std::collections::HashSet<u64> {
        self.groups.values().flat_map(|g| g.alerts.keys().copied()).collect()
    }
}
