//! The dense chunk encoding: every sample round-trips bit for bit (random data with NaN, the
//! staleness marker, -0.0, ±Inf, huge and tiny values, irregular timestamps), and corrupt or
//! truncated chunks give an error, never a panic.

#![allow(clippy::unwrap_used)]

use tsdb::chunkenc::dense::{DenseEncoder, DenseIterator, decode_all};

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn special(r: &mut Rng) -> f64 {
    match r.below(12) {
        0 => f64::NAN,
        1 => model::value::stale_nan(),
        2 => -0.0,
        3 => f64::INFINITY,
        4 => f64::NEG_INFINITY,
        5 => f64::MAX,
        6 => f64::MIN_POSITIVE,
        7 => 5e-324,
        8 => 1e300,
        9 => f64::from_bits(r.next()),
        10 => 9_007_199_254_740_993.0,
        _ => -1e-15,
    }
}

/// A series in one of several styles: decimal counters, gauges, page multiples, constants,
/// arbitrary floats, with specials sprinkled in at a random rate.
fn series(r: &mut Rng, n: usize) -> Vec<(i64, f64)> {
    let style = r.below(7);
    let special_rate = [0, 2, 50, 1000][r.below(4) as usize];
    let mut t = (r.next() as i64) >> r.below(64).max(1);
    let interval = [1, 15_000, 60_000, 10, 1 << 40][r.below(5) as usize];
    let mut v = (r.below(1_000_000) as f64) / 100.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let jitter = match r.below(10) {
            0..=6 => 0,
            7 => r.below(4) as i64,
            8 => interval * r.below(3) as i64,
            _ => r.below(1 << 20) as i64,
        };
        let next = t.checked_add(if i == 0 { 0 } else { interval + jitter });
        let Some(next) = next else { break };
        t = next;
        v = match style {
            0 => v + (r.below(1500) as f64) / 100.0,
            1 => ((v * 100.0).round() + r.below(201) as f64 - 100.0) / 100.0,
            2 => (r.below(1 << 20) * 4096) as f64,
            3 => v,
            4 => f64::from_bits(r.next()),
            5 => v * 1.0001 + 0.3,
            _ => (r.next() as i64 >> r.below(64)) as f64,
        };
        let x = if special_rate > 0 && r.below(special_rate) == 0 { special(r) } else { v };
        out.push((t, x));
    }
    out
}

fn assert_roundtrip(enc: &mut DenseEncoder, s: &[(i64, f64)]) {
    let chunk = enc.encode(s);
    let got = decode_all(&chunk).expect("an encoded chunk decodes");
    assert_eq!(got.len(), s.len());
    for (a, b) in s.iter().zip(&got) {
        assert_eq!(a.0, b.0);
        assert_eq!(a.1.to_bits(), b.1.to_bits(), "value at {}", a.0);
    }
    // The batched loop sees the same samples.
    let mut it = DenseIterator::new(&chunk);
    let mut batch = Vec::new();
    it.decode_while(|t, v| {
        batch.push((t, v.to_bits()));
        true
    });
    assert!(!it.is_corrupt());
    assert_eq!(batch, got.iter().map(|s| (s.0, s.1.to_bits())).collect::<Vec<_>>());
}

#[test]
fn random_series_roundtrip_bit_exact() {
    let mut r = Rng(7);
    for level in [0, 3] {
        let mut enc = DenseEncoder::new(level);
        for _ in 0..400 {
            let n = [1, 2, 3, 120, 1000, 5760][r.below(6) as usize];
            let s = series(&mut r, n);
            if !s.is_empty() {
                assert_roundtrip(&mut enc, &s);
            }
        }
    }
}

#[test]
fn specials_and_extremes_roundtrip() {
    let mut enc = DenseEncoder::new(3);
    let specials = [
        0.0,
        -0.0,
        f64::NAN,
        model::value::stale_nan(),
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        9_007_199_254_740_992.0,
        -9_007_199_254_740_992.0,
        0.1,
        1e-15,
        123.456,
    ];
    let ts = [i64::MIN, i64::MIN + 1, -1, 0, 1, 1_700_000_000_000, i64::MAX - 1, i64::MAX];
    let s: Vec<(i64, f64)> =
        ts.iter().zip(specials.iter().cycle()).map(|(&t, &v)| (t, v)).collect();
    assert_roundtrip(&mut enc, &s);
    let s: Vec<(i64, f64)> =
        specials.iter().enumerate().map(|(i, &v)| (i as i64 * 15_000, v)).collect();
    assert_roundtrip(&mut enc, &s);
    // Mostly decimal with a stale marker at the end, as a series that went away.
    let mut s: Vec<(i64, f64)> =
        (0..500i32).map(|i| (i64::from(i) * 15_000, f64::from(i) * 0.01)).collect();
    s.push((500 * 15_000, model::value::stale_nan()));
    assert_roundtrip(&mut enc, &s);
}

#[test]
fn regular_decimal_series_are_small() {
    let mut enc = DenseEncoder::new(3);
    let s: Vec<(i64, f64)> = (0..5760)
        .map(|i| (1_700_000_000_000 + i * 15_000, 42.0 + f64::from(i as i32 % 3) * 0.5))
        .collect();
    let c = enc.encode(&s);
    assert!(c.len() < 200, "{} bytes", c.len());
    // Regular scrapes of an unchanging value: the header and four near-empty sections.
    let constant: Vec<(i64, f64)> =
        (0..1440).map(|i| (1_700_000_000_000 + i * 15_000, 1e9)).collect();
    let c = enc.encode(&constant);
    assert!(c.len() < 40, "{} bytes", c.len());
}

#[test]
fn corrupt_chunks_are_errors_not_panics() {
    let mut r = Rng(11);
    let mut enc = DenseEncoder::new(3);
    let mut raw = DenseEncoder::new(0);
    let mut inputs: Vec<Vec<u8>> =
        vec![vec![], vec![1], vec![1, 0], vec![1, 1, 0, 0], vec![2, 1, 1, 0, 0]];
    for _ in 0..40 {
        let s = series(&mut r, 300);
        inputs.push(enc.encode(&s));
        inputs.push(raw.encode(&s));
    }
    let mut rejected = 0;
    for chunk in inputs {
        // Every truncation, then single-byte flips and random garbage after the header.
        for cut in 0..chunk.len() {
            let _ = decode_all(&chunk[..cut]);
        }
        for _ in 0..200 {
            let mut bad = chunk.clone();
            if bad.is_empty() {
                break;
            }
            let i = r.below(bad.len() as u64) as usize;
            bad[i] ^= 1 << r.below(8);
            if decode_all(&bad).is_none() {
                rejected += 1;
            }
            let mut it = DenseIterator::new(&bad);
            it.decode_while(|_, _| true);
        }
        let mut garbage = chunk.get(..4).unwrap_or(&[]).to_vec();
        garbage.extend((0..r.below(300)).map(|_| r.next() as u8));
        let _ = decode_all(&garbage);
    }
    assert!(rejected > 1000, "only {rejected} flipped chunks were rejected");
    // A chunk announcing a huge body or a zero count is refused up front.
    assert!(decode_all(&[1, 5, 0xff, 0xff, 0xff, 0xff, 0x7f, 1]).is_none());
    assert!(decode_all(&[1, 0, 3, 0, 0, 0, 1]).is_none());
}

/// Values that are no decimals (rates and ratios from recording rules) take the byte-wise XOR
/// fallback; with compression it stays no larger than Prometheus' XOR chunks of the same data.
#[test]
fn non_decimal_values_are_no_larger_than_xor() {
    let mut enc = DenseEncoder::new(tsdb::blockwriter::DENSE_ZSTD_LEVEL);
    let mut r = Rng(3);
    let mut v = 0.42f64;
    let s: Vec<(i64, f64)> = (0..2880)
        .map(|i| {
            v = (v * 1.013 + (r.below(1000) as f64) / 3.0).sqrt();
            (i * 15_000, v)
        })
        .collect();
    let dense = enc.encode(&s).len();
    let xor: usize = tsdb::chunkenc::encode_chunks(&s, 120).iter().map(|c| c.2.len() + 6).sum();
    println!("dense {dense} bytes, xor {xor} bytes");
    assert!(dense <= xor, "dense {dense} bytes, xor {xor} bytes");
}

/// Timestamps on the grid but for a few late scrapes and a gap (the sparse timestamp mode),
/// including a late second sample; and the same with no late scrape at all.
#[test]
fn rare_timestamp_jitter_roundtrips_and_stays_small() {
    let mut enc = DenseEncoder::new(tsdb::blockwriter::DENSE_ZSTD_LEVEL);
    let t = |i: i64| {
        1_700_000_000_231
            + i * 15_000
            + if i % 50 == 1 { 7 } else { 0 }
            + if i > 900 { 45_000 } else { 0 }
    };
    let s: Vec<(i64, f64)> = (0..1440).map(|i| (t(i), 1.0)).collect();
    assert_roundtrip(&mut enc, &s);
    let c = enc.encode(&s);
    assert!(c.len() < 120, "{} bytes", c.len());
    let regular: Vec<(i64, f64)> = (0..1440).map(|i| (i * 15_000, f64::from(i as i32))).collect();
    assert_roundtrip(&mut enc, &regular);
}

/// The sample sets the version-1 fixtures in `tests/data/dense_v1_*.bin` hold.
fn v1_sets() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let t0 = 1_764_111_111_231i64;
    // A hundredths counter on a 15 s grid, a few scrapes late, a stale marker and a -0.0.
    let counter: Vec<(i64, f64)> = (0..300i64)
        .map(|i| {
            let late = if i % 37 == 5 { 7 + i % 11 } else { 0 };
            let v = match i {
                100 => f64::from_bits(0x7ff0_0000_0000_0002),
                200 => -0.0,
                _ => (i * i * 7 % 1000 + i * 1234) as f64 / 100.0,
            };
            (t0 + i * 15_000 + late, v)
        })
        .collect();
    // Non-decimal floats (xor mode), jittered timestamps (nibbles), NaN and infinities.
    let floats: Vec<(i64, f64)> = (0..200i64)
        .map(|i| {
            let v = match i % 50 {
                3 => f64::NAN,
                4 => f64::INFINITY,
                5 => f64::NEG_INFINITY,
                _ => (i as f64 * 0.37).sin() / 3.0,
            };
            (t0 + i * 15_000 + (i * 7) % 5, v)
        })
        .collect();
    // Steadily growing deltas (deltas of deltas) at irregular times (varints).
    let growing: Vec<(i64, f64)> = (0..150i64)
        .map(|i| (t0 + i * i * 1000 + (i * 7919) % 3001, (i * i * 4096) as f64))
        .collect();
    vec![
        ("counter", counter),
        ("floats", floats),
        ("growing", growing),
        ("single", vec![(-5, 2.5)]),
    ]
}

/// Chunks written by format version 1 (before the section code byte, magicless zstd frames,
/// order 0 and bits mode) still decode to their samples bit for bit.
#[test]
fn version_1_chunks_still_decode() {
    assert_fixtures_decode(1, v1_sets());
}

/// Each fixture `tests/data/dense_v{version}_{name}.bin` is a chunk of that format version
/// that decodes to its samples bit for bit, and every truncation of it is an error, never a
/// panic.
fn assert_fixtures_decode(version: u8, sets: Vec<(&str, Vec<(i64, f64)>)>) {
    for (name, want) in sets {
        let path = format!("{}/tests/data/dense_v{version}_{name}.bin", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[0], version, "{name}");
        let got = decode_all(&bytes).unwrap_or_else(|| panic!("{name} does not decode"));
        let got: Vec<(i64, u64)> = got.iter().map(|s| (s.0, s.1.to_bits())).collect();
        let want: Vec<(i64, u64)> = want.iter().map(|s| (s.0, s.1.to_bits())).collect();
        assert_eq!(got, want, "{name}");
        for cut in 0..bytes.len() {
            assert!(decode_all(&bytes[..cut]).is_none(), "{name} cut at {cut}");
        }
    }
}

/// The version 2 value codings: offsets from the first value for noise around a level,
/// bit-pattern deltas for nanosecond-precision timestamps, and bit patterns whose differences
/// overflow; each round-trips and the noisy and timestamp series take the new codings' sizes.
#[test]
fn version_2_value_codings_round_trip() {
    let mut r = Rng(7);
    let t0 = 1_764_111_111_231i64;
    let noise: Vec<(i64, f64)> =
        (0..500i64).map(|i| (t0 + i * 15_000, (500_000 + r.below(100_000)) as f64 / 1e9)).collect();
    let clock: Vec<(i64, f64)> = (0..500i64)
        .map(|i| {
            let ns = (t0 + i * 15_000) as f64 / 1e3 + r.below(1_000_000) as f64 / 1e9;
            (t0 + i * 15_000, ns)
        })
        .collect();
    let wild: Vec<(i64, f64)> = (0..500i64)
        .map(|i| {
            let v = if i % 2 == 0 { f64::from_bits(r.next()) } else { -f64::from_bits(i as u64) };
            (t0 + i, v)
        })
        .collect();
    // Microsecond counters divided by 1000 twice: no plain decimals, but split-scaled ones.
    let mut us = 12_758_174_780u64;
    let pressure: Vec<(i64, f64)> = (0..500i64)
        .map(|i| {
            us += r.below(20_000_000);
            (t0 + i * 15_000, us as f64 / 1000.0 / 1000.0)
        })
        .collect();
    let mut enc = DenseEncoder::new(16);
    let cases = [("noise", noise, 3.2), ("clock", clock, 3.5), ("wild", wild, 20.0)];
    for (name, s, most) in cases.into_iter().chain([("pressure", pressure, 3.6)]) {
        let b = enc.encode(&s);
        assert_eq!(b[0], 3);
        let got = decode_all(&b).unwrap();
        assert_eq!(got.len(), s.len(), "{name}");
        for (g, w) in got.iter().zip(&s) {
            assert!(g.0 == w.0 && g.1.to_bits() == w.1.to_bits(), "{name}");
        }
        let per = b.len() as f64 / s.len() as f64;
        assert!(per < most, "{name}: {per:.2} bytes per sample");
        if name == "noise" {
            // Offsets from the least value (order 4), as bit-length classes (bit 7 and a
            // width byte of 16-18), scaled decimals.
            assert_eq!(modes(&b) & 0xfc, 0xc0, "{:#x}", modes(&b));
            assert!((16..=18).contains(&b[modes_at(&b) + 1]));
        }
    }
}

/// The modes byte of a version 2 or 3 chunk's header (after version, count, header length,
/// t0 and interval).
fn modes(b: &[u8]) -> u8 {
    b[modes_at(b)]
}

/// Where [`modes`] is.
fn modes_at(b: &[u8]) -> usize {
    let mut p = 1;
    for _ in 0..4 {
        while b[p] & 0x80 != 0 {
            p += 1;
        }
        p += 1;
    }
    p
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The sample sets the version-2 fixtures in `tests/data/dense_v2_*.bin` hold: those of
/// version 1 and the version 2 codings (offsets from the first value as byte planes, bit
/// patterns of a nanosecond clock, split decimal scales).
fn v2_sets() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let t0 = 1_764_111_111_231i64;
    let noise: Vec<(i64, f64)> = (0..400i64)
        .map(|i| (t0 + i * 15_000, (500_000 + mix(i as u64) % 100_000) as f64 / 1e9))
        .collect();
    let clock: Vec<(i64, f64)> = (0..400i64)
        .map(|i| {
            let t = t0 + i * 15_000;
            (t, t as f64 / 1e3 + (mix(i as u64) % 1_000_000) as f64 / 1e9)
        })
        .collect();
    let mut us = 12_758_174_780u64;
    let pressure: Vec<(i64, f64)> = (0..400i64)
        .map(|i| {
            us += mix(i as u64) % 20_000_000;
            (t0 + i * 15_000, us as f64 / 1000.0 / 1000.0)
        })
        .collect();
    let mut sets = v1_sets();
    sets.extend([("noise", noise), ("clock", clock), ("pressure", pressure)]);
    sets
}

/// Chunks written by format version 2 (before offsets from the least value and bit-length
/// classes) still decode to their samples bit for bit.
#[test]
fn version_2_chunks_still_decode() {
    assert_fixtures_decode(2, v2_sets());
}

/// Version 3: noise above a floor takes offsets from the least value as bit-length classes,
/// smaller than version 2's offsets from the first value as byte planes; numbers of every
/// bit length round-trip through each class width; milliseconds times 0.001 are products;
/// damaged chunks are errors, never panics.
#[test]
fn version_3_classes_round_trip_and_shrink_noise() {
    let t0 = 1_764_111_111_231i64;
    let mut enc = DenseEncoder::new(16);
    for (name, s) in v2_sets() {
        let b = enc.encode(&s);
        assert_roundtrip(&mut enc, &s);
        let path = format!("{}/tests/data/dense_v2_{name}.bin", env!("CARGO_MANIFEST_DIR"));
        let old = std::fs::read(&path).unwrap().len();
        assert!(b.len() <= old + 2, "{name}: {} bytes, version 2 {old}", b.len());
        if name == "noise" {
            // Uniform noise: the sign bit of offsets from the first value is what goes.
            assert!(b.len() * 100 < old * 98, "{name}: {} bytes, version 2 {old}", b.len());
        }
    }
    // Durations spanning many bit lengths (10 ns to 10 s), and the bit patterns of floats of
    // every magnitude (classes up to 64 bits).
    let wide: Vec<(i64, f64)> = (0..600i64)
        .map(|i| {
            let r = mix(i as u64);
            (t0 + i * 15_000, ((r % 1000 + 1) << (r >> 60)) as f64 / 1e9)
        })
        .collect();
    let floats: Vec<(i64, f64)> =
        (0..600i64).map(|i| (t0 + i * 15_000, f64::from_bits(mix(i as u64) >> (i % 64)))).collect();
    // Milliseconds multiplied by 0.001 (node_exporter's disk times): products, not
    // decimals x / 1000, and no exceptions.
    let mut ms = 5_426_140u64;
    let product: Vec<(i64, f64)> = (0..600i64)
        .map(|i| {
            ms += mix(i as u64) % 900;
            (t0 + i * 15_000, ms as f64 * 0.001)
        })
        .collect();
    assert!(product.iter().any(|s| (s.1 * 1e3).round() / 1e3 != s.1));
    assert_roundtrip(&mut enc, &product);
    let b = enc.encode(&product);
    assert_eq!(modes(&b) >> 2 & 3, 3, "{:#x}", modes(&b));
    assert!(b.len() < 2 * product.len(), "{} bytes", b.len());
    for s in [wide, floats, product] {
        assert_roundtrip(&mut enc, &s);
        let b = enc.encode(&s);
        for i in 1..b.len() {
            let mut bad = b.clone();
            bad[i] ^= 0x41;
            let _ = decode_all(&bad);
        }
    }
}
