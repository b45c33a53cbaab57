//! A small tmpfs for disk-full tests (root only), shared by this crate's tests and the
//! server's fault tests (`crates/pharos/tests`, through `#[path]`): mounted on a directory,
//! unmounted on drop, and filled until it refuses even a byte more.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a directory, unmounted on drop.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=`) on `dir`; `None` (after printing the
    /// skip line) without the rights to mount, unless `PHAROS_REQUIRE_EXTERNAL=1`.
    pub fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(Tmpfs(dir.to_path_buf()));
        }
        if std::env::var("PHAROS_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1") {
            panic!("cannot mount tmpfs on {} (PHAROS_REQUIRE_EXTERNAL=1)", dir.display());
        }
        eprintln!("skipped: cannot mount tmpfs");
        None
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the file system refuses more (with ENOSPC).
pub fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&chunk) {
            assert_eq!(e.raw_os_error(), Some(28), "expected ENOSPC, got {e}");
            break;
        }
    }
    // Top off with single bytes so not even a partial page is left.
    while f.write_all(&[0]).is_ok() {}
}
