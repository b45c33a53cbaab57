//! Range-vector functions over a matrix selector, streamed: each series' samples are decoded
//! into a reused per-thread buffer, its windows evaluated at every step, and only the function's
//! output kept. The selection is never held in memory as a whole, so a 24 h `rate` over
//! thousands of series allocates its output only.

use std::cell::RefCell;

use model::{Labels, Sample};
use storage::SampleIterator;

use super::call::WindowGeometry;
use super::selector::read_samples;
use super::{Evaluator, Range};
use crate::QueryError;
use crate::ast::VectorSelector;
use crate::functions::RangeFn;

thread_local! {
    /// One series' samples while its windows are evaluated.
    static BUF: RefCell<Vec<Sample>> = const { RefCell::new(Vec::new()) };
}

/// Buffers larger than this many samples are not kept after use.
const KEEP_CAPACITY: usize = 1 << 20;

impl Evaluator<'_> {
    /// `f` over the windows of `vs[range]` at every step of `r`, per series (in selection order,
    /// without series that have no output). Counter functions skip the reset scan of windows
    /// without resets.
    pub(super) fn stream_range_fn(
        &mut self,
        r: Range,
        vs: &VectorSelector,
        range: i64,
        params: &[Vec<f64>],
        f: RangeFn,
        counter: bool,
    ) -> Result<Vec<(Labels, Vec<Sample>)>, QueryError> {
        let first = self.ref_time(r.start, vs.at, vs.offset);
        let last = self.ref_time(r.last(), vs.at, vs.offset);
        let (mint, maxt) = (first - range, last);
        if maxt <= mint {
            return Ok(vec![]);
        }
        let geo = WindowGeometry {
            r,
            at: self.at_time(vs.at),
            offset: vs.offset,
            range,
            absent: false,
            counter,
        };
        let guard = self.load_guard();
        // Per series: the samples read (for the query's statistics) and the function's output.
        let eval = |it: &mut dyn SampleIterator| -> (usize, Vec<Sample>) {
            if guard.stopped() {
                return (0, Vec::new());
            }
            BUF.with(|b| {
                let mut buf = b.borrow_mut();
                buf.clear();
                read_samples(it, mint, maxt, true, &mut buf);
                let held = buf.len();
                let pts = if held > 0 && guard.add(held) {
                    let pts = geo.points(&buf, params, f, |_| {});
                    guard.release(held);
                    pts
                } else {
                    Vec::new()
                };
                if buf.capacity() > KEEP_CAPACITY {
                    *buf = Vec::new();
                }
                if !pts.is_empty() && !guard.add(pts.len()) {
                    return (held, Vec::new());
                }
                (held, pts)
            })
        };
        let all = self.select_map(vs, mint, maxt, range, r.interval, &eval);
        guard.finish()?;
        let all = all?;
        self.total_samples += all.iter().map(|(_, (n, _))| *n as u64).sum::<u64>();
        Ok(all.into_iter().filter(|(_, (_, p))| !p.is_empty()).map(|(l, (_, p))| (l, p)).collect())
    }
}
