//! Silences: matchers over a time range; states, create/update/expire as Alertmanager's
//! `silence` package decides, and garbage collection after the retention.

use std::collections::HashMap;

use model::{Labels, MatchType, Matcher};

use crate::error::Error;
use crate::matchers::{Matchers, new_matcher};

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
    fn compile(&self) -> Result<Matcher, Error> {
        let op = match (self.is_regex, self.is_equal) {
            (false, true) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regex,
            (true, false) => MatchType::NotRegex,
        };
        new_matcher(op, &self.name, &self.value)
            .map_err(|e| Error::Silence(format!("invalid label matcher: {e}")))
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

    /// Compiles the matchers, rejecting silences that would match everything.
    pub fn compiled(&self) -> Result<Matchers, Error> {
        if self.matchers.is_empty() {
            return Err(Error::Silence("at least one matcher required".into()));
        }
        let ms =
            self.matchers.iter().map(SilenceMatcher::compile).collect::<Result<Vec<_>, _>>()?;
        if ms.iter().all(Matcher::matches_empty) {
            return Err(Error::Silence(
                "at least one matcher must not match the empty string".into(),
            ));
        }
        Ok(Matchers(ms))
    }
}

fn can_update(prev: &Silence, next: &Silence, now: i64) -> bool {
    if prev.matchers != next.matchers {
        return false;
    }
    match prev.state(now) {
        SilenceState::Active => next.starts_at == prev.starts_at && next.ends_at >= now,
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
    /// Creates or updates a silence as Alertmanager's `Silences.Set`; returns the id and the
    /// silences written (the expired predecessor, if any, and the new one).
    pub fn set(&mut self, mut sil: Silence, now: i64) -> Result<(String, Vec<Silence>), Error> {
        let matchers = sil.compiled()?;
        if sil.ends_at < sil.starts_at {
            return Err(Error::Silence("end time must not be before start time".into()));
        }
        let mut written = Vec::new();
        if !sil.id.is_empty() {
            let Some((prev, _)) = self.by_id.get(&sil.id) else {
                return Err(Error::SilenceNotFound(sil.id));
            };
            if can_update(prev, &sil, now) {
                sil.updated_at = now;
                self.by_id.insert(sil.id.clone(), (sil.clone(), matchers));
                return Ok((sil.id.clone(), vec![sil]));
            }
            if prev.state(now) != SilenceState::Expired {
                let id = sil.id.clone();
                written.push(self.expire(&id, now)?);
            }
        }
        sil.id = uuid::Uuid::new_v4().to_string();
        sil.starts_at = sil.starts_at.max(now);
        sil.updated_at = now;
        self.by_id.insert(sil.id.clone(), (sil.clone(), matchers));
        written.push(sil.clone());
        Ok((sil.id, written))
    }

    /// Expires a silence now; returns the updated silence.
    pub fn expire(&mut self, id: &str, now: i64) -> Result<Silence, Error> {
        let Some((sil, _)) = self.by_id.get_mut(id) else {
            return Err(Error::SilenceNotFound(id.to_string()));
        };
        match sil.state(now) {
            SilenceState::Expired => {
                return Err(Error::Silence(format!("silence {id} already expired")));
            }
            SilenceState::Active => sil.ends_at = now,
            SilenceState::Pending => {
                sil.starts_at = now;
                sil.ends_at = now;
            }
        }
        sil.updated_at = now;
        Ok(sil.clone())
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

    #[test]
    fn lifecycle() {
        let mut s = Silences::default();
        let (id, _) = s.set(sil("", 0, 1000), 100).unwrap();
        let labels = Labels::new([("job", "api")]);
        assert_eq!(s.mutes(&labels, 500), vec![id.clone()]);
        assert_eq!(s.get(&id).unwrap().starts_at, 100);
        // Extending an active silence keeps its id.
        let mut upd = s.get(&id).unwrap().clone();
        upd.ends_at = 2000;
        assert_eq!(s.set(upd, 500).unwrap().0, id);
        // Changing matchers replaces it.
        let mut changed = s.get(&id).unwrap().clone();
        changed.matchers[0].value = "web".into();
        let (new_id, written) = s.set(changed, 600).unwrap();
        assert_ne!(new_id, id);
        assert_eq!(written.len(), 2);
        assert_eq!(s.get(&id).unwrap().state(601), SilenceState::Expired);
        assert!(s.expire(&id, 700).is_err());
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
        assert!(Silences::default().set(bad, 0).is_err());
        assert!(matches!(
            Silences::default().set(sil("nope", 0, 10), 0),
            Err(Error::SilenceNotFound(_))
        ));
    }
}
