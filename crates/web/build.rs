//! Embeds the built front-end (`ui/dist`) into the binary.
//!
//! If `ui/dist/index.html` is missing or older than the front-end sources and `npm` is on the PATH,
//! runs `npm ci && npm run build` in `ui/` first (skipped when `PHAROS_SKIP_UI_BUILD=1`). Without a
//! build, a small page explaining how to build the UI is embedded instead. The result is a
//! generated `assets.rs` in `OUT_DIR` listing every file with `include_bytes!`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const FALLBACK_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pharos</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Pharos</h1>
<p>The web UI was not built into this binary. The Prometheus HTTP API (<code>/api/v1/...</code>)
and the Alertmanager API (<code>/api/v2/...</code>) work as usual.</p>
<p>To build the UI, install Node.js and npm, then either run
<code>cd crates/web/ui &amp;&amp; npm ci &amp;&amp; npm run build</code> and rebuild Pharos, or just rebuild
Pharos with <code>npm</code> on the PATH (and without <code>PHAROS_SKIP_UI_BUILD=1</code>).</p>
</body></html>
"#;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets this"));
    let ui = manifest.join("ui");
    let dist = ui.join("dist");
    for p in ["src", "index.html", "package.json", "package-lock.json", "vite.config.ts"] {
        println!("cargo:rerun-if-changed={}", ui.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=PHAROS_SKIP_UI_BUILD");

    let skip = std::env::var("PHAROS_SKIP_UI_BUILD").is_ok_and(|v| v == "1");
    let mut built_here = false;
    if !skip && needs_build(&ui, &dist) {
        if npm_available() {
            match build_ui(&ui) {
                Ok(()) => built_here = true,
                Err(e) => println!("cargo:warning=pharos web UI build failed: {e}"),
            }
        } else if !dist.join("index.html").exists() {
            println!(
                "cargo:warning=npm not found: embedding a placeholder page instead of the web UI"
            );
        }
    }

    // A dist written by someone else (`npm run build`) is picked up; the one just built here is
    // not watched, or its fresh mtime would make the next cargo run redo this script.
    if !built_here {
        println!("cargo:rerun-if-changed={}", dist.display());
    }

    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
    } else {
        let fallback = out.join("fallback");
        fs::create_dir_all(&fallback).expect("create OUT_DIR/fallback");
        fs::write(fallback.join("index.html"), FALLBACK_PAGE).expect("write fallback page");
        collect(&fallback, &fallback, &mut files);
    }
    files.sort();
    let mut code =
        String::from("/// Embedded front-end files: (path relative to the web root, bytes).\n");
    code.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            abs.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(out.join("assets.rs"), code).expect("write assets.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>();
            files.push((rel.join("/"), path.clone()));
        }
    }
}

/// True when there is no built index.html or a source file is newer than it.
fn needs_build(ui: &Path, dist: &Path) -> bool {
    let Some(built) = mtime(&dist.join("index.html")) else { return true };
    let mut newest = SystemTime::UNIX_EPOCH;
    for p in ["index.html", "package.json", "package-lock.json", "vite.config.ts"] {
        newest = newest.max(mtime(&ui.join(p)).unwrap_or(SystemTime::UNIX_EPOCH));
    }
    newest = newest.max(newest_in(&ui.join("src")));
    newest > built
}

fn newest_in(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let p = entry.path();
            let t = if p.is_dir() { newest_in(&p) } else { mtime(&p).unwrap_or(newest) };
            newest = newest.max(t);
        }
    }
    newest
}

fn mtime(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn npm_available() -> bool {
    Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn build_ui(ui: &Path) -> Result<(), String> {
    if !ui.join("package.json").is_file() {
        return Err("ui/package.json is missing".into());
    }
    let lock_newer = mtime(&ui.join("package-lock.json"))
        .zip(mtime(&ui.join("node_modules/.package-lock.json")))
        .is_none_or(|(lock, installed)| lock > installed);
    if lock_newer {
        run(ui, &["ci", "--no-audit", "--no-fund"])?;
    }
    run(ui, &["run", "build"])
}

fn run(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| format!("npm {}: {e}", args.join(" ")))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm {} exited with {status}", args.join(" ")))
    }
}
