//! Helpers shared by the receivers' integration tests: a local HTTP server, lanes with the
//! default templates, and waiting for delivery outcomes.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;
use std::time::Duration;

use alertmanager::template::Templates;
use axum::Router;
use receivers::{Outcome, QueueOptions, ReceiverQueues};
use tokio::sync::mpsc;

/// Serves `router` on a free loopback port; returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// Receiver lanes with `opts` and the default templates, and the channel of their outcomes.
pub fn lanes(opts: QueueOptions) -> (ReceiverQueues, mpsc::UnboundedReceiver<Outcome>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (ReceiverQueues::new(opts, Arc::new(Templates::defaults()), String::new(), tx), rx)
}

/// Waits for `n` outcomes, failing the test if they do not all arrive `within`.
pub async fn outcomes(
    rx: &mut mpsc::UnboundedReceiver<Outcome>,
    n: usize,
    within: Duration,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    tokio::time::timeout(within, async {
        while out.len() < n {
            out.push(rx.recv().await.unwrap());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {n} outcomes: {out:?}", out.len()));
    out
}
