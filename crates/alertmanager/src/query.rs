//! Read views for the API v2: alerts with their status and receivers, alert groups,
//! silences, receivers; plus silence writes. Filtering follows Alertmanager 0.25's API.

use std::collections::HashMap;

use model::{Labels, MatchType, Matcher};

use crate::alert::{Alert, fingerprint, label_set_before, notification_order};
use crate::error::Error;
use crate::manager::Alertmanager;
use crate::matchers::Matchers;
use crate::silence::{Silence, api_order};

/// Which alerts a query wants (the API's query parameters; all `true` by default).
#[derive(Clone, Debug)]
pub struct AlertQuery {
    pub active: bool,
    pub silenced: bool,
    pub inhibited: bool,
    pub unprocessed: bool,
    pub filter: Matchers,
    /// Anchored regex over receiver names.
    pub receiver: Option<Matcher>,
}

impl Default for AlertQuery {
    fn default() -> AlertQuery {
        AlertQuery {
            active: true,
            silenced: true,
            inhibited: true,
            unprocessed: true,
            filter: Matchers::default(),
            receiver: None,
        }
    }
}

impl AlertQuery {
    /// Compiles a `receiver` regex parameter.
    pub fn receiver_regex(pattern: &str) -> Result<Matcher, Error> {
        Matcher::new_dot_excludes_newline(MatchType::Regex, "receiver", pattern).map_err(|e| {
            Error::Matcher(crate::matchers::go_regex_error(&e, &format!("^(?:{pattern})$")))
        })
    }
}

/// An alert with its computed status, as the API lists it.
#[derive(Clone, Debug)]
pub struct AlertView {
    pub alert: Alert,
    pub fingerprint: u64,
    pub receivers: Vec<String>,
    /// "active" or "suppressed".
    pub state: &'static str,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
}

/// An aggregation group as the API lists it.
#[derive(Clone, Debug)]
pub struct GroupView {
    pub labels: Labels,
    pub receiver: String,
    pub alerts: Vec<AlertView>,
}

/// Alertmanager's `matchFilterLabels`: filter matchers against a label map, where an
/// empty-valued matcher on an absent (present, for negative ones) label is skipped.
pub fn match_filter_labels(filter: &Matchers, get: impl Fn(&str) -> Option<String>) -> bool {
    filter.0.iter().all(|m| {
        let v = get(&m.name);
        let negative = matches!(m.op, MatchType::NotEqual | MatchType::NotRegex);
        if m.value.is_empty() && (negative == v.is_some()) {
            return true;
        }
        m.matches(v.as_deref().unwrap_or(""))
    })
}

impl Alertmanager {
    fn view(&self, a: &Alert, receivers: Vec<String>, now: i64) -> AlertView {
        let silenced_by = self.silences.mutes(&a.labels, now);
        let inhibited_by: Vec<String> = self
            .inhibitor
            .mutes(&a.labels, now)
            .map(crate::alert::fingerprint_string)
            .into_iter()
            .collect();
        let state =
            if silenced_by.is_empty() && inhibited_by.is_empty() { "active" } else { "suppressed" };
        AlertView {
            alert: a.clone(),
            fingerprint: a.fingerprint(),
            receivers,
            state,
            silenced_by,
            inhibited_by,
        }
    }

    fn keep(&self, v: &AlertView, q: &AlertQuery, now: i64) -> bool {
        if v.alert.resolved_at(now) {
            return false;
        }
        if !q.active && v.state == "active" {
            return false;
        }
        if !q.silenced && !v.silenced_by.is_empty() {
            return false;
        }
        if !q.inhibited && !v.inhibited_by.is_empty() {
            return false;
        }
        match_filter_labels(&q.filter, |n| v.alert.labels.get(n).map(str::to_string))
    }

    /// Receivers an alert with `labels` routes to, in tree order.
    pub fn route_receivers(&self, labels: &Labels) -> Vec<String> {
        self.compiled.route.matching(labels).iter().map(|r| r.opts.receiver.clone()).collect()
    }

    /// `GET /api/v2/alerts`: unresolved alerts matching the query, by fingerprint.
    pub fn alerts(&self, q: &AlertQuery) -> Vec<AlertView> {
        let now = self.now();
        let mut out = Vec::new();
        for a in self.store.iter().map(|(_, a)| a) {
            let receivers = self.route_receivers(&a.labels);
            if q.receiver.as_ref().is_some_and(|re| !receivers.iter().any(|r| re.matches(r))) {
                continue;
            }
            let v = self.view(a, receivers, now);
            if self.keep(&v, q, now) {
                out.push(v);
            }
        }
        out.sort_by_key(|v| crate::alert::fingerprint_string(v.fingerprint));
        out
    }

    /// `GET /api/v2/alerts/groups`.
    pub fn groups(&self, q: &AlertQuery) -> Vec<GroupView> {
        let now = self.now();
        let mut groups = Vec::new();
        let mut receivers_of: HashMap<u64, Vec<String>> = HashMap::new();
        for (_, g) in self.dispatcher.groups() {
            let receiver = self.compiled.routes[g.route_index].opts.receiver.clone();
            if q.receiver.as_ref().is_some_and(|re| !re.matches(&receiver)) {
                continue;
            }
            let mut alerts: Vec<Alert> = Vec::new();
            for a in g.alerts.values() {
                let v = self.view(a, Vec::new(), now);
                if self.keep(&v, q, now) {
                    receivers_of.entry(v.fingerprint).or_default().push(receiver.clone());
                    alerts.push(a.clone());
                }
            }
            if !alerts.is_empty() {
                alerts.sort_by(notification_order);
                groups.push((g.labels.clone(), receiver, alerts));
            }
        }
        // Alertmanager: by group labels (`LabelSet.Before`), then receiver; each alert's
        // receivers sorted by name.
        groups.sort_by(|a, b| label_set_before(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
        for r in receivers_of.values_mut() {
            r.sort();
        }
        groups
            .into_iter()
            .map(|(labels, receiver, alerts)| GroupView {
                labels,
                receiver,
                alerts: alerts
                    .iter()
                    .map(|a| {
                        self.view(
                            a,
                            receivers_of.get(&fingerprint(&a.labels)).cloned().unwrap_or_default(),
                            now,
                        )
                    })
                    .collect(),
            })
            .collect()
    }

    /// Receiver names in config order.
    pub fn receivers(&self) -> Vec<String> {
        self.compiled.config.receivers.iter().map(|r| r.name.clone()).collect()
    }

    /// `GET /api/v2/silences`: silences that have, for every filter matcher, a matcher of
    /// the same name, kind and value (Alertmanager's `CheckSilenceMatchesFilterLabels`: the
    /// filter names matchers, it is not applied to their values), in API order.
    pub fn silences(&self, filter: &Matchers) -> Vec<Silence> {
        let mut list: Vec<Silence> = self
            .silences
            .iter()
            .filter(|s| filter.0.iter().all(|f| s.matchers.iter().any(|m| m.is(f))))
            .cloned()
            .collect();
        api_order(&mut list, self.now());
        list
    }

    pub fn silence(&self, id: &str) -> Option<Silence> {
        self.silences.get(id).cloned()
    }

    /// `POST /api/v2/silences`: creates or updates; returns the (possibly new) id.
    pub fn set_silence(&mut self, sil: Silence) -> Result<String, Error> {
        let now = self.now();
        let (result, written) = self.silences.set(sil, now);
        self.persist_silences(&written);
        result
    }

    /// `DELETE /api/v2/silence/{id}`.
    pub fn expire_silence(&mut self, id: &str) -> Result<(), Error> {
        let now = self.now();
        if let Some(s) = self.silences.expire(id, now)? {
            self.persist_silences(&[s]);
        }
        Ok(())
    }

    /// Number of stored alerts and aggregation groups (for metrics and benches).
    pub fn counts(&self) -> (usize, usize) {
        (self.store.len(), self.dispatcher.len())
    }
}
