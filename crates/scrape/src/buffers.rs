//! The body buffers shared by every scrape loop of the process, as Prometheus' scrape manager
//! shares one buffer pool.
//!
//! A body lives only from its fetch to the commit of its samples, and scrapes are spread over
//! the interval, so a handful of buffers serves any number of targets. The last buffer given
//! back is the next one handed out: it is still in the CPU cache, so copying a response into it
//! and parsing it read and write cached memory, where one buffer per target (thousands of
//! them, each the size of its body) would be cold by its next scrape and would keep a body's
//! worth of resident memory per target.

use parking_lot::Mutex;

/// Buffers kept for reuse; more are allocated while more scrapes run at once, and dropped
/// when given back beyond this.
const KEPT: usize = 16;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty buffer, the most recently given back one if any.
pub(crate) fn take() -> Vec<u8> {
    POOL.lock().pop().unwrap_or_default()
}

/// Gives a buffer back for the next scrape.
pub(crate) fn give_back(mut buf: Vec<u8>) {
    if buf.capacity() == 0 {
        return;
    }
    buf.clear();
    let mut pool = POOL.lock();
    if pool.len() < KEPT {
        pool.push(buf);
    }
}

/// Makes room for `len` more bytes in `buf` without copying what it held: `buf` is empty when
/// its body starts, so a buffer too small for a body is replaced rather than reallocated.
pub(crate) fn reserve_empty(buf: &mut Vec<u8>, len: usize) {
    if buf.is_empty() && buf.capacity() < len {
        *buf = Vec::with_capacity(len);
    } else {
        buf.reserve(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_empty_gives_room_and_keeps_contents() {
        let mut b = Vec::with_capacity(4);
        reserve_empty(&mut b, 100);
        assert!(b.capacity() >= 100);
        b.extend_from_slice(b"abc");
        reserve_empty(&mut b, 1000);
        assert!(b.capacity() >= 1003);
        assert_eq!(b, b"abc");
    }

    #[test]
    fn buffers_come_back_empty() {
        let mut b = take();
        b.extend_from_slice(b"some body");
        give_back(b);
        // Other tests may share the pool: whichever buffer comes out, it is empty.
        assert!(take().is_empty());
    }
}
