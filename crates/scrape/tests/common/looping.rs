//! Building a scrape loop for a test target: the target's labels, loop options with Prometheus'
//! defaults and a test's timeout, and the loop itself over an appendable.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use model::Labels;
use scrape::scrape_loop::{Limits, LoopOptions, ScrapeLoop};
use scrape::target::Target;
use scrape::{Clock, SystemClock};
use storage::Appendable;

/// The target `http://ADDR/PATH` of job `j`, with its `instance` label.
pub fn http_target(addr: SocketAddr, path: &str) -> Arc<Target> {
    let addr = addr.to_string();
    let labels = Labels::new([
        ("__address__", addr.as_str()),
        ("__scheme__", "http"),
        ("__metrics_path__", path),
        ("instance", addr.as_str()),
        ("job", "j"),
    ]);
    Target::new(labels, Labels::empty(), &Default::default())
}

/// A 15 s interval with `timeout`, timestamps honoured, no relabeling, no limits, the default
/// HTTP client settings and no compression; tests change what they need with `..options(t)`.
pub fn options(timeout: Duration) -> LoopOptions {
    LoopOptions {
        interval: Duration::from_secs(15),
        timeout,
        honor_labels: false,
        honor_timestamps: true,
        metric_relabel: Vec::new(),
        limits: Limits::default(),
        http: Default::default(),
        compression: false,
    }
}

/// The loop scraping `target` with `opts` into `app`, on the system clock.
pub fn scrape_loop(target: Arc<Target>, opts: LoopOptions, app: Arc<dyn Appendable>) -> ScrapeLoop {
    let client = scrape::http_client::build(&opts.http, opts.compression).unwrap();
    ScrapeLoop::new(target, Arc::new(opts), client, app, Arc::new(SystemClock) as Arc<dyn Clock>)
}
