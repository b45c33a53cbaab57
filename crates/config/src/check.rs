//! `promtool check config`: validate a configuration and the files it names.

use std::path::{Path, PathBuf};

use crate::ConfigError;

/// Validates the configuration at `path` like `promtool check config`: the file must load, and
/// every rule file it names (globs expanded) must exist and be YAML. Rule syntax is checked by
/// the rules crate. Returns the rule files found.
pub fn check(path: impl AsRef<Path>) -> Result<Vec<String>, ConfigError> {
    let cfg = crate::load(path.as_ref())?;
    let mut found = Vec::new();
    for pattern in &cfg.rule_files {
        let files = expand_glob(pattern).map_err(ConfigError::Check)?;
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| {
                ConfigError::Check(format!("checking rule file {}: {e}", f.display()))
            })?;
            serde_saphyr::from_str::<serde::de::IgnoredAny>(&text).map_err(|e| {
                ConfigError::Check(format!(
                    "checking rule file {}: {}",
                    f.display(),
                    first_line(&e.to_string())
                ))
            })?;
            found.push(f.display().to_string());
        }
    }
    for sc in &cfg.scrape_configs {
        for pattern in sc.file_sd_configs.iter().flat_map(|f| &f.files) {
            for f in expand_glob(pattern).map_err(ConfigError::Check)? {
                check_sd_file(&f)?;
            }
        }
        for f in [&sc.tls_config.ca_file, &sc.tls_config.cert_file, &sc.tls_config.key_file] {
            if !f.is_empty() && !Path::new(f).exists() {
                return Err(ConfigError::Check(format!(
                    "error checking client cert file {f:?}: file does not exist (job {:?})",
                    sc.job_name
                )));
            }
        }
    }
    Ok(found)
}

/// A file_sd file must hold target groups (`[{targets: [...], labels: {...}}]`).
fn check_sd_file(path: &Path) -> Result<(), ConfigError> {
    let name = path.display().to_string();
    let fail = |e: String| ConfigError::Check(format!("checking SD file {name:?}: {e}"));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    if name.ends_with(".json") {
        serde_json_like(&text).map_err(fail)
    } else if text.trim().is_empty() {
        Ok(())
    } else {
        serde_saphyr::from_str::<Vec<crate::sd::StaticConfig>>(&text)
            .map(|_| ())
            .map_err(|e| fail(first_line(&e.to_string())))
    }
}

/// JSON is YAML: the YAML parser reads a JSON target-group file with the same schema.
fn serde_json_like(text: &str) -> Result<(), String> {
    serde_saphyr::from_str::<Vec<crate::sd::StaticConfig>>(text)
        .map(|_| ())
        .map_err(|e| first_line(&e.to_string()))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// Expands a file pattern whose last component may contain `*`, `?` and `[...]` (Go's
/// `filepath.Glob`); a pattern without metacharacters is returned as is if the file exists.
pub fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let p = Path::new(pattern);
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?', '[']) {
        return Ok(if p.exists() { vec![p.to_path_buf()] } else { Vec::new() });
    }
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name().to_str().is_some_and(|n| glob_match(name.as_bytes(), n.as_bytes()))
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
    out.sort();
    Ok(out)
}

/// Matches one path component against a glob (`*`, `?`, `[abc]`, `[a-z]`, `[^x]`).
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    match pat.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| glob_match(&pat[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && glob_match(&pat[1..], &s[1..]),
        Some(b'[') => {
            let Some(end) = pat.iter().position(|&c| c == b']') else { return false };
            let Some(&c) = s.first() else { return false };
            let mut class = &pat[1..end];
            let negate = class.first().is_some_and(|&b| b == b'^' || b == b'!');
            if negate {
                class = &class[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && glob_match(&pat[end + 1..], &s[1..])
        }
        Some(&c) => s.first() == Some(&c) && glob_match(&pat[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match(b"*.yml", b"a.yml"));
        assert!(!glob_match(b"*.yml", b"a.yaml"));
        assert!(glob_match(b"r?[0-9].y*", b"ra1.yaml"));
        assert!(!glob_match(b"[^a]*", b"abc"));
    }
}
