//! Fuzzes configuration loading: the first byte picks prometheus.yml (crate config) or
//! alertmanager.yml (crate alertmanager); the rest is the file's text. Loading must return a
//! configuration or an error, never panic; an accepted prometheus.yml must re-serialise to text
//! that loads again (what `/api/v1/status/config` shows).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if sel & 1 == 0 {
        match config::parse(text, "prometheus.yml") {
            Ok(cfg) => {
                let yaml = cfg.to_yaml();
                if let Err(e) = config::parse(&yaml, "prometheus.yml") {
                    panic!("re-serialised config does not load: {e}\n{yaml}");
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    } else {
        match alertmanager::config::Config::parse(text, "alertmanager.yml") {
            Ok(_) => {}
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
