//! The discovered labels Prometheus 2.42 shows for a target after relabeling wrote over them.
//!
//! In Prometheus 2.42 `relabel.Process` builds each step's result in the backing array of its
//! input (`Builder.Labels(lset)`), and the first input is the very slice `PopulateLabels`
//! returns as the target's discovered labels. So `/api/v1/targets` shows, for active and dropped
//! targets alike, the first `n` entries of that array after every step that fit in its capacity:
//! a `hashmod` into `h` on a target with 7 labels and room for 8 shows `h` in place of `job`.
//! Once a step's result outgrows the array, later steps write elsewhere and the array keeps
//! what it held (the kept labels compacted at the front, older entries behind them).
//!
//! [`ShownDiscovered`] replays this on a model of the array, with Go's slice growth (`append`
//! doubling below 256 elements, rounded up to the allocator's size classes for 32-byte
//! `labels.Label` values) deciding the capacity.

use model::{Label, Labels};

/// Go's malloc size classes up to 32 KiB.
const SIZE_CLASSES: &[usize] = &[
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352,
    384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048,
    2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728,
    10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
    32768,
];
/// `unsafe.Sizeof(labels.Label{})`: two strings.
const LABEL_SIZE: usize = 32;
const PAGE_SIZE: usize = 8192;

/// Go's `growslice`: the capacity `append` gives a slice of capacity `old` that needs `needed`.
fn grow(old: usize, needed: usize) -> usize {
    let mut cap = if needed > old * 2 {
        needed
    } else if old < 256 {
        old * 2
    } else {
        let mut c = old;
        while c < needed {
            c += (c + 3 * 256) / 4;
        }
        c
    };
    cap = cap.max(needed);
    let bytes = cap * LABEL_SIZE;
    let rounded = match SIZE_CLASSES.iter().find(|&&c| c >= bytes) {
        Some(&c) => c,
        None => bytes.div_ceil(PAGE_SIZE) * PAGE_SIZE,
    };
    rounded / LABEL_SIZE
}

/// The capacity after appending `n` elements one by one to an empty (non-nil) slice.
fn grown_by_appends(n: usize) -> usize {
    let mut cap = 0;
    for len in 1..=n {
        if len > cap {
            cap = grow(cap, len);
        }
    }
    cap
}

/// A model of the array behind a target's discovered labels in Prometheus 2.42.
#[derive(Debug)]
pub(crate) struct ShownDiscovered {
    array: Vec<Label>,
    /// Length of the discovered labels (the slice the API shows).
    shown: usize,
    /// The length of the current relabeling result while it still lives in `array`.
    live: Option<usize>,
}

impl ShownDiscovered {
    /// `discovered`: the labels `PopulateLabels` built from `kept` labels of the target group
    /// plus `changed` (its defaults and params, set or deleted). With no change Go returns the
    /// group's own slice, whose capacity is its length.
    pub(crate) fn new(discovered: &Labels, kept: usize, changed: usize) -> ShownDiscovered {
        let mut array: Vec<Label> = discovered.iter().cloned().collect();
        let cap = if changed == 0 {
            array.len()
        } else {
            let cap = grown_by_appends(kept);
            if array.len() > cap { grow(cap, array.len()) } else { cap }
        };
        let shown = array.len();
        array.resize(cap.max(shown), Label::new("", ""));
        ShownDiscovered { array, shown, live: Some(shown) }
    }

    /// Records one relabeling step that changed (`touched` is not empty) `before` into `after`.
    pub(crate) fn step(&mut self, before: &Labels, touched: &[String], after: &Labels) {
        if self.live.is_none() || touched.is_empty() {
            return;
        }
        let m = after.len();
        if m <= self.array.len() {
            for (slot, l) in self.array.iter_mut().zip(after.iter()) {
                *slot = l.clone();
            }
            self.live = Some(m);
            return;
        }
        // The result moved to a new array; this one keeps the compacted untouched labels.
        let kept = before.iter().filter(|l| !touched.iter().any(|t| *t == *l.name));
        let kept: Vec<Label> = kept.cloned().collect();
        for (slot, l) in self.array.iter_mut().zip(kept) {
            *slot = l;
        }
        self.live = None;
    }

    /// The discovered labels as the API shows them (a repeated name shows its last value).
    pub(crate) fn labels(&self) -> Labels {
        Labels::from_vec(self.array[..self.shown].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_growth() {
        assert_eq!(grown_by_appends(0), 0);
        assert_eq!(grown_by_appends(3), 4);
        assert_eq!(grown_by_appends(5), 8);
        assert_eq!(grow(4, 7), 8);
        assert_eq!(grow(2, 5), 5);
        assert_eq!(grow(0, 17), 18);
        assert_eq!(grow(8, 25), 28);
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs.iter().copied())
    }

    #[test]
    fn an_added_label_shows_in_place_of_the_last_one() {
        // 7 labels from 3 kept plus 4 set: capacity 8 (4 after the appends, doubled).
        let d = l(&[
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "4"),
            ("e", "5"),
            ("f", "6"),
            ("z", "7"),
        ]);
        assert_eq!(ShownDiscovered::new(&d, 1, 6).array.len(), 7);
        let mut s = ShownDiscovered::new(&d, 3, 4);
        let after = l(&[
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "4"),
            ("e", "5"),
            ("f", "6"),
            ("h", "9"),
            ("z", "7"),
        ]);
        s.step(&d, &["h".into()], &after);
        let shown = s.labels();
        assert_eq!(shown.get("h"), Some("9"));
        assert_eq!(shown.get("z"), None);
        // A result that outgrows the array leaves it as the compacted untouched labels.
        let big: Vec<(String, String)> =
            (0..12).map(|i| (format!("x{i:02}"), "v".into())).collect();
        let bigger = Labels::new(big);
        s.step(&after, &["a".into(), "x00".into()], &bigger);
        let shown = s.labels();
        assert_eq!(shown.get("a"), None);
        assert_eq!(shown.get("b"), Some("2"));
    }

    #[test]
    fn unchanged_group_has_no_spare_room() {
        let d = l(&[("a", "1"), ("b", "2")]);
        let mut s = ShownDiscovered::new(&d, 2, 0);
        let after = l(&[("a", "1"), ("b", "2"), ("c", "3")]);
        s.step(&d, &["c".into()], &after);
        assert_eq!(s.labels(), d);
    }
}
