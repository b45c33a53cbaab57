//! What the TSDB benches share: the calling thread's CPU clock (what a shared, busy machine
//! does not inflate by running others on the core), the splitmix64 mixer their data
//! generators draw from, node_exporter-like label sets and values.

// Each bench is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::time::Duration;

use model::Labels;

/// This thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu() -> Duration {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.sec as u64, ts.nsec as u32)
}

/// splitmix64.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `targets` × `per_target` node_exporter-like label sets: 200 metric names per CPU, one
/// `instance` per target.
pub fn node_labels(targets: usize, per_target: usize) -> Vec<Vec<Labels>> {
    (0..targets)
        .map(|tg| {
            (0..per_target)
                .map(|i| {
                    Labels::new([
                        ("__name__", format!("node_metric_{}", i % 200).as_str()),
                        ("instance", &format!("host-{tg}:9100")),
                        ("job", "node"),
                        ("cpu", &format!("{}", i / 200)),
                    ])
                })
                .collect()
        })
        .collect()
}

/// The next node_exporter-like value of a series of `class` (0..20: hundredth counters,
/// integer counters, page gauges, two-decimal gauges, rare error counters, constants) from
/// its previous value `prev` and the random word `r`.
pub fn node_value(class: usize, r: u64, prev: f64) -> f64 {
    match class {
        0..=2 => ((prev * 100.0).round() + (r % 1500) as f64) / 100.0,
        3 | 4 => prev + ((r >> 8) % 200_000) as f64,
        5 | 6 => (prev + (((r >> 8) % 33) as f64 - 16.0) * 4096.0).max(0.0),
        7 => (((prev * 100.0).round() + ((r >> 8) % 201) as f64) - 100.0).max(0.0) / 100.0,
        16..=19 => prev + f64::from(u8::from((r >> 8).is_multiple_of(50))),
        _ => prev,
    }
}
