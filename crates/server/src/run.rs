//! Starting, running and stopping the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::{SelfMetrics, ServerError, ServerOptions, config_load, tsdb_open};

/// Whether startup has completed; shared with `/-/ready`.
#[derive(Clone, Default)]
pub(crate) struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub(crate) fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A started server: its address and a way to stop it.
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
    db: Arc<tsdb::Db>,
    maintenance: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds the listener, builds every component and starts serving.
    pub async fn start(opts: ServerOptions) -> Result<Server, ServerError> {
        std::fs::create_dir_all(&opts.storage_path).map_err(|e| ServerError::Storage {
            path: opts.storage_path.display().to_string(),
            reason: e.to_string(),
        })?;
        let listener = TcpListener::bind(&opts.listen_address).await.map_err(|source| {
            ServerError::Listen { address: opts.listen_address.clone(), source }
        })?;
        let addr = listener.local_addr().map_err(ServerError::Http)?;
        let loaded =
            config_load::load(opts.config_file.as_deref(), &opts.storage_path, addr.port())?;
        tracing::info!(file = %loaded.path.display(), "loaded configuration file");
        let db = tsdb_open::open(&opts, &loaded.config).await?;
        let metrics = SelfMetrics::new(env!("CARGO_PKG_VERSION"));
        let readiness = Readiness::default();
        let app = crate::http::router(metrics.clone(), readiness.clone());
        let (shutdown, mut rx) = watch::channel(false);
        let maintenance = tsdb_open::spawn_maintenance(db.clone(), shutdown.subscribe());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await
                .map_err(ServerError::Http)
        });
        metrics.config_last_reload_successful.set(1);
        metrics.ready.set(1);
        readiness.set(true);
        tracing::info!(address = %addr, "server is ready to receive web requests");
        Ok(Server { addr, shutdown, task, db, maintenance })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops every component in order and waits for the HTTP server to drain.
    pub async fn stop(self) -> Result<(), ServerError> {
        let _ = self.shutdown.send(true);
        let _ = self.maintenance.await;
        let served = match self.task.await {
            Ok(result) => result,
            Err(e) => Err(ServerError::Http(std::io::Error::other(e.to_string()))),
        };
        let db = self.db;
        let closed = tokio::task::spawn_blocking(move || db.close()).await;
        if let Ok(Err(e)) = closed {
            tracing::error!(err = %e, "closing the tsdb failed");
        }
        served
    }
}

/// Runs the server until SIGTERM or SIGINT, then shuts down cleanly.
pub async fn run(opts: ServerOptions) -> Result<(), ServerError> {
    let server = Server::start(opts).await?;
    wait_for_signal().await;
    tracing::info!("received termination signal, shutting down");
    server.stop().await?;
    tracing::info!("see you next time");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        // Without signal handlers the only way to stop is to be killed; wait forever.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}
