//! Silences: matchers over a time range; states, create/update/expire as Alertmanager's
//! `silence` package decides, and garbage collection after the retention.

use std::collections::HashMap;

use model::{Labels, MatchType, Matcher};

use crate::error::Error;
use crate::matchers::{Matchers, valid_label_name};

/// One matcher as the API writes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SilenceMatcher {
    pub name: String,
    pub value: String,
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    #[serde(rename = "isEqual", default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl SilenceMatcher {
    fn op(&self) -> MatchType {
        match (self.is_regex, self.is_equal) {
            (false, true) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regex,
            (true, false) => MatchType::NotRegex,
        }
    }

    /// Alertmanager's `ValidateMatcher` and compilation, with its error words.
    fn compile(&self) -> Result<Matcher, String> {
        if !valid_label_name(&self.name) {
            return Err(format!("invalid label name {:?}", self.name));
        }
        // ValidateMatcher compiles the pattern as written (unanchored): `a)|(b` is refused
        // there although the anchored matcher would compile.
        let bad_regex = |reason: &str| {
            let go = crate::goregex::error_text(&self.value, reason);
            format!("invalid regular expression {:?}: {go}", self.value)
        };
        if self.is_regex
            && let Some((code, frag)) = crate::goregex::syntax_error(&self.value)
        {
            return Err(bad_regex(&format!("{code}: `{frag}`")));
        }
        Matcher::new_dot_excludes_newline(self.op(), &self.name, &self.value).map_err(|e| match e {
            model::ModelError::InvalidRegex { reason, .. } => bad_regex(&reason),
            other => other.to_string(),
        })
    }

    /// True if this is the matcher `m`: same name, kind and value.
    pub fn is(&self, m: &Matcher) -> bool {
        self.name == m.name && self.op() == m.op && self.value == m.value
    }
}

/// A silence's state at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SilenceState {
    Pending,
    Active,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Pending => "pending",
            SilenceState::Active => "active",
            SilenceState::Expired => "expired",
        }
    }
}

/// A stored silence.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<SilenceMatcher>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub updated_at: i64,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub fn state(&self, now: i64) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now > self.ends_at {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// Compiles the matchers and validates the silence as Alertmanager's `validateSilence`
    /// (errors worded as its API returns them).
    pub fn compiled(&self) -> Result<Matchers, Error> {
        let invalid = |m: String| Error::Silence(format!("silence invalid: {m}"));
        if self.matchers.is_empty() {
            return Err(invalid("at least one matcher required".into()));
        }
        let mut ms = Vec::with_capacity(self.matchers.len());
        for (i, m) in self.matchers.iter().enumerate() {
            ms.push(m.compile().map_err(|e| invalid(format!("invalid label matcher {i}: {e}")))?);
        }
        if ms.iter().all(matches_empty) {
            return Err(invalid("at least one matcher must not match the empty string".into()));
        }
        if self.ends_at < self.starts_at {
            return Err(invalid("end time must not be before start time".into()));
        }
        Ok(Matchers(ms))
    }
}

/// Alertmanager's `matchesEmpty`: only `=` and `=~` matchers count; a negative matcher never
/// does, so `{job!="api"}` alone is a valid silence.
fn matches_empty(m: &Matcher) -> bool {
    matches!(m.op, MatchType::Equal | MatchType::Regex) && m.matches("")
}

/// Alertmanager's `canUpdate`: the start of an active silence is compared in whole seconds
/// (clients send back the millisecond-rounded time they were shown).
fn can_update(prev: &Silence, next: &Silence, now: i64) -> bool {
    if prev.matchers != next.matchers {
        return false;
    }
    match prev.state(now) {
        SilenceState::Active => {
            prev.starts_at.div_euclid(1000) == next.starts_at.div_euclid(1000)
                && next.ends_at >= now
        }
        SilenceState::Pending => next.starts_at >= now,
        SilenceState::Expired => false,
    }
}

/// All silences, with compiled matchers for muting.
#[derive(Debug, Default)]
pub struct Silences {
    by_id: HashMap<String, (Silence, Matchers)>,
}

impl Silences {
    /// Creates or updates a silence as Alertmanager's `Silences.Set`; returns the id (or why
    /// not) and the silences written. As there, an unknown id is refused before anything is
    /// validated, and a predecessor that cannot be updated in place is expired before its
    /// replacement is validated, so it stays expired when the replacement is refused.
    pub fn set(&mut self, mut sil: Silence, now: i64) -> (Result<String, Error>, Vec<Silence>) {
        let mut written = Vec::new();
        if !sil.id.is_empty() {
            let Some((prev, _)) = self.by_id.get(&sil.id) else {
                return (Err(Error::SilenceNotFound(sil.id)), written);
            };
            if can_update(prev, &sil, now) {
                let matchers = match sil.compiled() {
                    Ok(m) => m,
                    Err(e) => return (Err(e), written),
                };
                sil.updated_at = now;
                self.by_id.insert(sil.id.clone(), (sil.clone(), matchers));
                return (Ok(sil.id.clone()), vec![sil]);
            }
            let id = sil.id.clone();
            if let Ok(Some(expired)) = self.expire(&id, now) {
                written.push(expired);
            }
        }
        sil.starts_at = sil.starts_at.max(now);
        let matchers = match sil.compiled() {
            Ok(m) => m,
            Err(e) => return (Err(e), written),
        };
        sil.id = uuid::Uuid::new_v4().to_string();
        sil.updated_at = now;
        self.by_id.insert(sil.id.clone(), (sil.clone(), matchers));
        written.push(sil.clone());
        (Ok(sil.id), written)
    }

    /// Expires a silence now; returns the updated silence, or `None` if it had already
    /// expired (expiring is idempotent, as in Alertmanager).
    pub fn expire(&mut self, id: &str, now: i64) -> Result<Option<Silence>, Error> {
        let Some((sil, _)) = self.by_id.get_mut(id) else {
            return Err(Error::SilenceNotFound(id.to_string()));
        };
        match sil.state(now) {
            SilenceState::Expired => return Ok(None),
            SilenceState::Active => sil.ends_at = now,
            SilenceState::Pending => {
                sil.starts_at = now;
                sil.ends_at = now;
            }
        }
        sil.updated_at = now;
        Ok(Some(sil.clone()))
    }

    /// Restores a silence from durable state (no validation of times).
    pub fn restore(&mut self, sil: Silence) {
        if let Ok(m) = sil.compiled() {
            self.by_id.insert(sil.id.clone(), (sil, m));
        }
    }

    pub fn get(&self, id: &str) -> Option<&Silence> {
        self.by_id.get(id).map(|(s, _)| s)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Silence> {
        self.by_id.values().map(|(s, _)| s)
    }

    /// Ids of the active silences muting `labels`, sorted.
    pub fn mutes(&self, labels: &Labels, now: i64) -> Vec<String> {
        let mut ids: Vec<String> = self
            .by_id
            .values()
            .filter(|(s, m)| s.state(now) == SilenceState::Active && m.matches(labels))
            .map(|(s, _)| s.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Deletes silences that ended more than `retention_ms` ago; returns their ids.
    pub fn gc(&mut self, now: i64, retention_ms: i64) -> Vec<String> {
        let dead: Vec<String> = self
            .by_id
            .values()
            .filter(|(s, _)| s.ends_at + retention_ms < now)
            .map(|(s, _)| s.id.clone())
            .collect();
        for id in &dead {
            self.by_id.remove(id);
        }
        dead
    }

    /// Removes one silence (replaying a persisted deletion).
    pub fn gc_one(&mut self, id: &str) {
        self.by_id.remove(id);
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Sorts as the API v2 lists silences: active by end, pending by start, expired by end desc.
pub fn api_order(list: &mut [Silence], now: i64) {
    let rank = |s: &Silence| match s.state(now) {
        SilenceState::Active => 0,
        SilenceState::Pending => 1,
        SilenceState::Expired => 2,
    };
    list.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| match a.state(now) {
            SilenceState::Active => a.ends_at.cmp(&b.ends_at),
            SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
            SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sil(id: &str, start: i64, end: i64) -> Silence {
        Silence {
            id: id.into(),
            matchers: vec![SilenceMatcher {
                name: "job".into(),
                value: "api".into(),
                is_regex: false,
                is_equal: true,
            }],
            starts_at: start,
            ends_at: end,
            updated_at: 0,
            created_by: "me".into(),
            comment: "c".into(),
        }
    }

    fn set(s: &mut Silences, sil: Silence, now: i64) -> Result<(String, Vec<Silence>), Error> {
        let (res, written) = s.set(sil, now);
        res.map(|id| (id, written))
    }

    #[test]
    fn lifecycle() {
        let mut s = Silences::default();
        let (id, _) = set(&mut s, sil("", 0, 1000), 100).unwrap();
        let labels = Labels::new([("job", "api")]);
        assert_eq!(s.mutes(&labels, 500), vec![id.clone()]);
        assert_eq!(s.get(&id).unwrap().starts_at, 100);
        // Extending an active silence keeps its id.
        let mut upd = s.get(&id).unwrap().clone();
        upd.ends_at = 2000;
        assert_eq!(set(&mut s, upd, 500).unwrap().0, id);
        // Changing matchers replaces it.
        let mut changed = s.get(&id).unwrap().clone();
        changed.matchers[0].value = "web".into();
        let (new_id, written) = set(&mut s, changed, 600).unwrap();
        assert_ne!(new_id, id);
        assert_eq!(written.len(), 2);
        assert_eq!(s.get(&id).unwrap().state(601), SilenceState::Expired);
        // Expiring again is a no-op, as in Alertmanager (its API answers 200).
        assert!(matches!(s.expire(&id, 700), Ok(None)));
        assert_eq!(s.gc(1700, 1000), vec![id]);
    }

    #[test]
    fn rejects_match_all() {
        let mut bad = sil("", 0, 10);
        bad.matchers[0] = SilenceMatcher {
            name: "job".into(),
            value: ".*".into(),
            is_regex: true,
            is_equal: true,
        };
        let err = set(&mut Silences::default(), bad, 0).unwrap_err().to_string();
        assert_eq!(err, "silence invalid: at least one matcher must not match the empty string");
        assert!(matches!(
            set(&mut Silences::default(), sil("nope", 0, 10), 0),
            Err(Error::SilenceNotFound(_))
        ));
    }

    #[test]
    fn negative_matchers_alone_are_valid() {
        // Alertmanager's matchesEmpty counts only = and =~: {job!="api"} matches every
        // alert without job=api, and is a valid silence.
        for (is_regex, value) in [(false, "api"), (true, "a.*"), (false, "")] {
            let mut neg = sil("", 0, 10_000);
            neg.matchers[0].is_equal = false;
            neg.matchers[0].is_regex = is_regex;
            neg.matchers[0].value = value.into();
            let mut s = Silences::default();
            let (id, _) = set(&mut s, neg, 0).unwrap();
            assert_eq!(s.mutes(&Labels::new([("job", "web")]), 5), vec![id]);
        }
    }

    #[test]
    fn unknown_id_is_refused_before_validation() {
        let mut bad = sil("nope", 0, 10);
        bad.matchers.clear();
        assert!(matches!(set(&mut Silences::default(), bad, 0), Err(Error::SilenceNotFound(_))));
    }

    #[test]
    fn active_start_is_compared_in_seconds() {
        let mut s = Silences::default();
        let (id, _) = set(&mut s, sil("", 0, 100_000), 1_500).unwrap();
        // Shown as ...:01.500; sent back as ...:01.000 (same second): updated in place.
        let mut upd = s.get(&id).unwrap().clone();
        upd.starts_at = 1_000;
        upd.ends_at = 200_000;
        assert_eq!(set(&mut s, upd, 2_000).unwrap().0, id);
        // Another second: replaced.
        let mut upd = s.get(&id).unwrap().clone();
        upd.starts_at = 0;
        assert_ne!(set(&mut s, upd, 2_500).unwrap().0, id);
    }

    #[test]
    fn refused_replacement_leaves_the_predecessor_expired() {
        let mut s = Silences::default();
        let (id, _) = set(&mut s, sil("", 0, 100_000), 0).unwrap();
        let mut upd = s.get(&id).unwrap().clone();
        upd.matchers[0].value = String::new();
        let (res, written) = s.set(upd, 10);
        assert!(res.is_err());
        assert_eq!(written.len(), 1, "the expired predecessor is written");
        assert_eq!(s.get(&id).unwrap().state(11), SilenceState::Expired);
    }
}
