//! `--web.config.file` on the server's one listener: the file is loaded (and fully checked)
//! before anything starts, its guard wraps the whole router, and TLS wraps the listener.

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use webconfig::WebConfig;

use crate::{ServerError, ServerOptions};

/// Loads `--web.config.file`; `None` without the flag. A bad file stops the start.
pub(crate) fn load(opts: &ServerOptions) -> Result<Option<WebConfig>, ServerError> {
    let Some(path) = &opts.web_config_file else { return Ok(None) };
    let cfg = webconfig::load(path)
        .map_err(|e| ServerError::Config(format!("--web.config.file: {e}")))?;
    tracing::info!(
        file = %path.display(),
        tls = cfg.tls_acceptor().is_some(),
        basic_auth = cfg.guard().requires_auth(),
        "loaded web configuration file"
    );
    Ok(Some(cfg))
}

/// Wraps the outermost router (every route, fallbacks included) in the guard.
pub(crate) fn protect(app: Router, web: Option<&WebConfig>) -> Router {
    match web {
        Some(cfg) => cfg.protect(app),
        None => app,
    }
}

/// Serves `app` on `listener`, over TLS when the web config asks for it, until `stop`.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<webconfig::TlsAcceptor>,
    stop: watch::Receiver<bool>,
) -> Result<(), ServerError> {
    match tls {
        Some(acceptor) => {
            let tls = webconfig::TlsListener::new(listener, acceptor).map_err(ServerError::Http)?;
            serve_on(tls, app, stop).await
        }
        None => serve_on(listener, app, stop).await,
    }
}

async fn serve_on<L>(
    listener: L,
    app: Router,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ServerError>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(ServerError::Http)
}
