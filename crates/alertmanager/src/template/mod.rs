//! Notification templates: Go `text/template` (via `gotmpl`) over Alertmanager's data model.
//!
//! Data: `.Receiver`, `.Status`, `.Alerts` (each with `.Status`, `.Labels`, `.Annotations`,
//! `.StartsAt`, `.EndsAt`, `.GeneratorURL`, `.Fingerprint`), `.Alerts.Firing`,
//! `.Alerts.Resolved`, `.GroupLabels`, `.CommonLabels`, `.CommonAnnotations`, `.ExternalURL`.
//!
//! Go methods on these types (`.Alerts.Firing`, `KV.SortedPairs`, `.Names`, `.Values`,
//! `KV.Remove`, `time.Time.Format`) have no equivalent in gotmpl's value model, so template
//! sources are rewritten into function calls before parsing ([`rewrite_methods`]). Functions: Alertmanager's
//! (`toUpper`, `toLower`, `title`, `join`, `match`, `reReplaceAll`, `safeHtml`,
//! `stringSlice`, `trimSpace`) plus the helpers the rewrite targets.

mod data;
mod defaults;
mod funcs;

use std::sync::Arc;

pub use data::{TemplateAlert, TemplateData, template_data};
pub use funcs::rewrite_methods;

use crate::config::Config;
use crate::error::Error;

/// The parsed default templates plus the config's `templates` files.
#[derive(Clone)]
pub struct Templates {
    source: Arc<String>,
    files: usize,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").field("files", &self.files).finish()
    }
}

impl Templates {
    /// Defaults plus the files matched by the config's `templates` globs (relative to the
    /// config file's directory).
    pub fn from_config(cfg: &Config) -> Result<Templates, Error> {
        let base =
            std::path::Path::new(&cfg.path).parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let mut source = String::from(defaults::DEFAULT_TEMPLATES);
        let mut files = 0;
        for pattern in &cfg.templates {
            for path in expand_glob(&base, pattern)? {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::Template(format!("reading {}: {e}", path.display())))?;
                source.push_str(&text);
                source.push('\n');
                files += 1;
            }
        }
        let t = Templates { source: Arc::new(rewrite_methods(&source)), files };
        t.parse("")?;
        Ok(t)
    }

    /// Defaults only.
    pub fn defaults() -> Templates {
        Templates { source: Arc::new(rewrite_methods(defaults::DEFAULT_TEMPLATES)), files: 0 }
    }

    pub fn file_count(&self) -> usize {
        self.files
    }

    fn parse(&self, text: &str) -> Result<gotmpl::Template, Error> {
        let text = rewrite_methods(text);
        gotmpl::Template::new("")
            .funcs(funcs::func_map())
            .parse(&self.source)
            .and_then(|t| t.parse(&text))
            .map_err(|e| Error::Template(e.to_string()))
    }

    /// Executes a template text (e.g. a config field like `{{ template "slack.default.title" . }}`).
    pub fn execute(&self, text: &str, data: &gotmpl::Value) -> Result<String, Error> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        let t = self.parse(text)?;
        t.execute_to_string(data).map_err(|e| Error::Template(e.to_string()))
    }
}

fn expand_glob(base: &std::path::Path, pattern: &str) -> Result<Vec<std::path::PathBuf>, Error> {
    let full = if std::path::Path::new(pattern).is_absolute() {
        pattern.into()
    } else {
        base.join(pattern)
    };
    let dir = full.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let file_pat = full.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    if !file_pat.contains('*') {
        return Ok(if full.exists() { vec![full] } else { Vec::new() });
    }
    let (prefix, suffix) = file_pat.split_once('*').unwrap_or((&file_pat, ""));
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(out) };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(prefix)
            && name.ends_with(suffix)
            && name.len() >= prefix.len() + suffix.len()
        {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests;
