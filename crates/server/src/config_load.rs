//! Loading the configuration: the file named by `--config.file`, or the embedded default.
//!
//! The embedded default is written out under `<storage>/default-config/` (a `prometheus.yml`
//! and its rule files) and then loaded like any other file, so what runs is always something a
//! user can read, copy and pass back with `--config.file`.

use std::path::{Path, PathBuf};

use crate::ServerError;
use crate::self_access::SelfAccess;

const DEFAULT_CONFIG: &str = include_str!("../defaults/prometheus.yml");
const DEFAULT_RULES: &str = include_str!("../defaults/slo-rules.yml");

/// A validated configuration and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: config::Config,
    pub path: PathBuf,
}

/// Loads `--config.file`, or writes and loads the embedded default with the self-scrape
/// target on `port`, reached as `access` says.
pub fn load(
    config_file: Option<&Path>,
    storage: &Path,
    port: u16,
    access: &SelfAccess,
) -> Result<LoadedConfig, ServerError> {
    let path = match config_file {
        Some(p) => p.to_path_buf(),
        None => write_default(storage, port, access)?,
    };
    let config = config::load(&path).map_err(|e| ServerError::Config(e.to_string()))?;
    Ok(LoadedConfig { config, path })
}

fn write_default(storage: &Path, port: u16, access: &SelfAccess) -> Result<PathBuf, ServerError> {
    let dir = storage.join("default-config");
    write_file(&dir.join("rules/slo-rules.yml"), DEFAULT_RULES.as_bytes())?;
    let text = DEFAULT_CONFIG
        .replace("${PHAROS_PORT}", &port.to_string())
        .replace("${PHAROS_SELF_ACCESS}\n", &access.scrape_yaml());
    let path = dir.join("prometheus.yml");
    write_file(&path, text.as_bytes())?;
    Ok(path)
}

/// Writes a file the server generates under its storage directory, creating its folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    let io = |e: std::io::Error| ServerError::Storage {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_a_valid_config_that_scrapes_itself() {
        let dir =
            std::env::temp_dir().join(format!("pharos-default-config-{}", std::process::id()));
        let loaded = load(None, &dir, 9099, &SelfAccess::default()).unwrap();
        let jobs: Vec<&str> =
            loaded.config.scrape_configs.iter().map(|s| s.job_name.as_str()).collect();
        assert_eq!(jobs, vec!["pharos", "api-server"]);
        let text = std::fs::read_to_string(&loaded.path).unwrap();
        assert!(text.contains("localhost:9099"), "{text}");
        assert!(dir.join("default-config/rules/slo-rules.yml").is_file());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_bad_config_file_is_a_config_error_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("pharos-bad-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("prometheus.yml");
        std::fs::write(&file, "global:\n  scrape_intervl: 15s\n").unwrap();
        let err = load(Some(&file), &dir, 9090, &SelfAccess::default()).unwrap_err().to_string();
        assert!(err.contains("prometheus.yml") && err.contains("scrape_intervl"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
