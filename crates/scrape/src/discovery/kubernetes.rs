//! `kubernetes_sd_configs`: not implemented yet; a configured provider logs an error and
//! discovers nothing.

use tokio_util::sync::CancellationToken;

use super::UpdateSender;

pub(crate) async fn run(
    cfg: config::sd::KubernetesSdConfig,
    idx: usize,
    tx: UpdateSender,
    cancel: CancellationToken,
) {
    tracing::error!(
        role = cfg.role.as_str(),
        "kubernetes_sd_configs is not supported yet; no targets discovered"
    );
    let _ = tx.send((idx, Vec::new()));
    cancel.cancelled().await;
}
