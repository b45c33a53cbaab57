//! Dashboards in Grafana's JSON model: the built-in "Service overview", provisioned files from a
//! folder (re-read on every request) and dashboards imported through the API (persisted as
//! `<uid>.json` files under the data dir).

use std::fs;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::Error;

/// The uid of the built-in service overview dashboard.
pub const SERVICE_OVERVIEW_UID: &str = "service-overview";
const SERVICE_OVERVIEW: &str = include_str!("../dashboards/service-overview.json");

/// Where a dashboard comes from; only imported ones can be replaced or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DashboardSource {
    Builtin,
    Provisioned,
    Imported,
}

impl DashboardSource {
    fn describe(self) -> &'static str {
        match self {
            DashboardSource::Builtin => "built in",
            DashboardSource::Provisioned => "provisioned from a file",
            DashboardSource::Imported => "imported",
        }
    }
}

/// A dashboard's summary, as listed by `GET /api/pharos/v1/dashboards`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DashboardEntry {
    pub uid: String,
    pub title: String,
    pub tags: Vec<String>,
    pub source: DashboardSource,
}

/// All dashboards known to the UI.
pub struct DashboardStore {
    provision_dir: Option<PathBuf>,
    import_dir: PathBuf,
    write_lock: Mutex<()>,
}

impl DashboardStore {
    /// A store reading provisioned dashboards from `provision_dir` and keeping imported ones in
    /// `import_dir`.
    pub fn new(provision_dir: Option<PathBuf>, import_dir: PathBuf) -> DashboardStore {
        DashboardStore { provision_dir, import_dir, write_lock: Mutex::new(()) }
    }

    /// Every dashboard, built-in first, then provisioned, then imported, each group by title.
    /// A uid seen earlier hides later ones.
    pub fn list(&self) -> Vec<DashboardEntry> {
        let mut out: Vec<DashboardEntry> = Vec::new();
        for (entry, _) in self.all() {
            if !out.iter().any(|e| e.uid == entry.uid) {
                out.push(entry);
            }
        }
        out
    }

    /// The dashboard with `uid` and its JSON model.
    pub fn get(&self, uid: &str) -> Result<(DashboardEntry, Value), Error> {
        self.all()
            .into_iter()
            .find(|(e, _)| e.uid == uid)
            .ok_or_else(|| Error::NotFound(uid.to_string()))
    }

    /// Imports a Grafana dashboard: either the model itself or Grafana's API envelope
    /// `{"dashboard": {...}, "overwrite": bool}`. A missing uid is derived from the title.
    pub fn import(&self, body: Value) -> Result<DashboardEntry, Error> {
        let (mut model, overwrite) = unwrap_envelope(body)?;
        let obj = model
            .as_object_mut()
            .ok_or_else(|| Error::InvalidDashboard("expected a JSON object".into()))?;
        let uid = match obj.get("uid") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                slug(obj.get("title").and_then(Value::as_str).unwrap_or(""))
            }
            Some(_) => return Err(Error::InvalidDashboard("uid must be a string".into())),
        };
        obj.insert("uid".into(), Value::String(uid.clone()));
        obj.insert("id".into(), Value::Null);
        let entry = summarize(&model, &uid, DashboardSource::Imported)?;

        let _guard = self.write_lock.lock();
        if let Ok((existing, _)) = self.get(&uid) {
            if existing.source != DashboardSource::Imported {
                return Err(Error::ReadOnly(uid, existing.source.describe()));
            }
            if !overwrite {
                return Err(Error::Conflict(uid));
            }
        }
        fs::create_dir_all(&self.import_dir).map_err(|e| Error::io(&self.import_dir, e))?;
        let path = self.import_dir.join(format!("{uid}.json"));
        let tmp = self.import_dir.join(format!(".{uid}.json.tmp"));
        let bytes = serde_json::to_vec_pretty(&model)
            .map_err(|e| Error::InvalidDashboard(e.to_string()))?;
        fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(entry)
    }

    /// Deletes an imported dashboard.
    pub fn delete(&self, uid: &str) -> Result<(), Error> {
        let _guard = self.write_lock.lock();
        let (entry, _) = self.get(uid)?;
        if entry.source != DashboardSource::Imported {
            return Err(Error::ReadOnly(uid.to_string(), entry.source.describe()));
        }
        let path = self.import_dir.join(format!("{uid}.json"));
        fs::remove_file(&path).map_err(|e| Error::io(&path, e))
    }

    fn all(&self) -> Vec<(DashboardEntry, Value)> {
        let mut out = Vec::new();
        match serde_json::from_str::<Value>(SERVICE_OVERVIEW) {
            Ok(model) => match summarize(&model, SERVICE_OVERVIEW_UID, DashboardSource::Builtin) {
                Ok(entry) => out.push((entry, model)),
                Err(e) => tracing::error!(error = %e, "built-in dashboard is invalid"),
            },
            Err(e) => tracing::error!(error = %e, "built-in dashboard is not JSON"),
        }
        if let Some(dir) = &self.provision_dir {
            out.extend(read_dir(dir, DashboardSource::Provisioned));
        }
        out.extend(read_dir(&self.import_dir, DashboardSource::Imported));
        out
    }
}

/// Reads every `*.json` dashboard in `dir`, sorted by title; bad files are logged and skipped.
fn read_dir(dir: &Path, source: DashboardSource) -> Vec<(DashboardEntry, Value)> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot read dashboards folder");
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        match load_file(&path, source) {
            Ok(d) => out.push(d),
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "skipping dashboard"),
        }
    }
    out.sort_by_key(|a| a.0.title.to_lowercase());
    out
}

fn load_file(path: &Path, source: DashboardSource) -> Result<(DashboardEntry, Value), Error> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let body: Value =
        serde_json::from_str(&text).map_err(|e| Error::InvalidDashboard(e.to_string()))?;
    let (mut model, _) = unwrap_envelope(body)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let uid = match model.get("uid").and_then(Value::as_str) {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => slug(&stem),
    };
    if let Some(obj) = model.as_object_mut() {
        obj.insert("uid".into(), Value::String(uid.clone()));
    }
    let entry = summarize(&model, &uid, source)?;
    Ok((entry, model))
}

/// Splits Grafana's API envelope `{"dashboard": {...}, "overwrite": ...}` from a bare model.
fn unwrap_envelope(body: Value) -> Result<(Value, bool), Error> {
    let Value::Object(mut obj) = body else {
        return Err(Error::InvalidDashboard("expected a JSON object".into()));
    };
    let wrapped = obj.get("dashboard").is_some_and(Value::is_object) && !obj.contains_key("panels");
    if wrapped {
        let overwrite = obj.get("overwrite").and_then(Value::as_bool).unwrap_or(false);
        let model = obj.remove("dashboard").unwrap_or(Value::Object(Map::new()));
        Ok((model, overwrite))
    } else {
        Ok((Value::Object(obj), false))
    }
}

/// Checks the parts of the model the UI relies on and returns the summary.
fn summarize(model: &Value, uid: &str, source: DashboardSource) -> Result<DashboardEntry, Error> {
    let obj = model
        .as_object()
        .ok_or_else(|| Error::InvalidDashboard("expected a JSON object".into()))?;
    validate_uid(uid)?;
    let title = match obj.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        _ => return Err(Error::InvalidDashboard("title must be a non-empty string".into())),
    };
    for key in ["panels", "rows"] {
        if obj.get(key).is_some_and(|v| !v.is_array()) {
            return Err(Error::InvalidDashboard(format!("{key} must be an array")));
        }
    }
    if !obj.contains_key("panels") && !obj.contains_key("rows") {
        return Err(Error::InvalidDashboard("no panels: expected a \"panels\" array".into()));
    }
    if obj.get("templating").is_some_and(|t| !t.get("list").is_none_or(Value::is_array)) {
        return Err(Error::InvalidDashboard("templating.list must be an array".into()));
    }
    let tags = obj
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    Ok(DashboardEntry { uid: uid.to_string(), title, tags, source })
}

/// Grafana's uid rule: 1 to 40 characters of letters, digits, `-`, `_` and `.`.
fn validate_uid(uid: &str) -> Result<(), Error> {
    let ok = !uid.is_empty()
        && uid.len() <= 40
        && uid.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !uid.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidDashboard(format!(
            "uid {uid:?} must be 1 to 40 letters, digits, '-', '_' or '.' and not start with '.'"
        )))
    }
}

/// A uid derived from a title: lowercase letters and digits joined by `-`, at most 40 long.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut s: String = out.trim_end_matches('-').chars().take(40).collect();
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() { "dashboard".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> (tempfile::TempDir, DashboardStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let prov = dir.path().join("prov");
        fs::create_dir_all(&prov).expect("mkdir");
        let s = DashboardStore::new(Some(prov), dir.path().join("data"));
        (dir, s)
    }

    #[test]
    fn builtin_service_overview_has_the_four_panels() {
        let (_d, s) = store();
        let (entry, model) = s.get(SERVICE_OVERVIEW_UID).expect("builtin");
        assert_eq!(entry.source, DashboardSource::Builtin);
        let titles: Vec<&str> = model["panels"]
            .as_array()
            .expect("panels")
            .iter()
            .map(|p| p["title"].as_str().expect("title"))
            .collect();
        assert_eq!(titles, ["Request rate by path", "Error rate", "P99 latency", "Pod restarts"]);
        assert_eq!(
            model["panels"][0]["targets"][0]["expr"],
            r#"sum by (path) (rate(http_requests_total{job="$job"}[$__rate_interval]))"#
        );
    }

    #[test]
    fn import_derives_uid_persists_and_refuses_duplicates() {
        let (_d, s) = store();
        let e = s.import(json!({"title": "Node Exporter / Full", "panels": []})).expect("import");
        assert_eq!(e.uid, "node-exporter-full");
        assert!(s.list().iter().any(|d| d.uid == "node-exporter-full"));
        let again = s.import(json!({"title": "Node Exporter / Full", "panels": []}));
        assert!(matches!(again, Err(Error::Conflict(_))));
        let env = json!({"dashboard": {"title": "Node Exporter / Full", "panels": [{"type": "stat"}]},
                         "overwrite": true});
        s.import(env).expect("overwrite");
        let (_, model) = s.get("node-exporter-full").expect("get");
        assert_eq!(model["panels"][0]["type"], "stat");
        s.delete("node-exporter-full").expect("delete");
        assert!(matches!(s.get("node-exporter-full"), Err(Error::NotFound(_))));
    }

    #[test]
    fn builtin_and_provisioned_are_read_only() {
        let (d, s) = store();
        let prov = d.path().join("prov/team.json");
        fs::write(&prov, r#"{"title": "Team", "panels": []}"#).expect("write");
        assert_eq!(s.get("team").expect("provisioned").0.source, DashboardSource::Provisioned);
        let r = s.import(json!({"uid": "team", "title": "X", "panels": []}));
        assert!(matches!(r, Err(Error::ReadOnly(..))));
        let r = s.import(json!({"uid": SERVICE_OVERVIEW_UID, "title": "X", "panels": []}));
        assert!(matches!(r, Err(Error::ReadOnly(..))));
        assert!(matches!(s.delete(SERVICE_OVERVIEW_UID), Err(Error::ReadOnly(..))));
    }

    #[test]
    fn bad_dashboards_are_rejected_or_skipped() {
        let (d, s) = store();
        for bad in [
            json!([1, 2]),
            json!({"title": "", "panels": []}),
            json!({"title": "x", "panels": {}}),
            json!({"title": "x"}),
            json!({"uid": "../etc", "title": "x", "panels": []}),
            json!({"uid": 5, "title": "x", "panels": []}),
        ] {
            assert!(matches!(s.import(bad), Err(Error::InvalidDashboard(_))));
        }
        fs::write(d.path().join("prov/broken.json"), "{nope").expect("write");
        assert_eq!(s.list().len(), 1);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("  Hello, World!  "), "hello-world");
        assert_eq!(slug("???"), "dashboard");
        assert_eq!(slug(&"a".repeat(50)).len(), 40);
    }
}
