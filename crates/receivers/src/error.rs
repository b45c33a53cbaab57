//! Delivery errors, told apart as retryable or permanent.

use thiserror::Error;

/// Why a notification was not delivered.
#[derive(Debug, Error)]
#[error("{message}")]
pub struct NotifyError {
    /// True if trying again later may succeed (network errors, 5xx, 429).
    pub retryable: bool,
    pub message: String,
}

impl NotifyError {
    pub fn retryable(message: impl Into<String>) -> NotifyError {
        NotifyError { retryable: true, message: message.into() }
    }

    pub fn permanent(message: impl Into<String>) -> NotifyError {
        NotifyError { retryable: false, message: message.into() }
    }

    /// Alertmanager's rule for HTTP integrations: 5xx and 429 retry, other non-2xx do not.
    pub fn from_status(integration: &str, status: u16, body: &str) -> NotifyError {
        let body: String = body.chars().take(256).collect();
        let message = format!("{integration}: unexpected status code {status}: {body}");
        if status >= 500 || status == 429 {
            NotifyError::retryable(message)
        } else {
            NotifyError::permanent(message)
        }
    }
}
