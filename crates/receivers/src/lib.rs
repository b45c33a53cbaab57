//! Pharos' notification integrations and their delivery machinery.
//!
//! One module per integration ([`webhook`], [`email`], [`slack`], [`pagerduty`],
//! [`opsgenie`], [`msteams`]), each rendering Alertmanager's payload from a
//! [`NotifyContext`]; [`retry`] (bounded exponential backoff, retryable vs permanent
//! failures) and [`queue`] (per-integration lanes: bounded sends in flight, at most one
//! waiting notification per group, so a slow receiver blocks nothing and nothing is dropped).

pub mod context;
pub mod email;
mod error;
pub mod http;
pub mod metrics;
pub mod msteams;
pub mod opsgenie;
pub mod pagerduty;
pub mod queue;
pub mod retry;
pub mod slack;
pub mod webhook;

use alertmanager::config::Integration;

pub use context::NotifyContext;
pub use error::NotifyError;
pub use metrics::{IntegrationSeries, NotifyMetrics};
pub use queue::{Outcome, QueueOptions, ReceiverQueues};

/// Sends one notification through one integration (a single attempt).
pub async fn notify(integration: &Integration, ctx: &NotifyContext) -> Result<(), NotifyError> {
    match integration {
        Integration::Webhook(c) => webhook::notify(c, ctx).await,
        Integration::Email(c) => email::notify(c, ctx).await,
        Integration::Slack(c) => slack::notify(c, ctx).await,
        Integration::Pagerduty(c) => pagerduty::notify(c, ctx).await,
        Integration::Opsgenie(c) => opsgenie::notify(c, ctx).await,
        Integration::MsTeams(c) => msteams::notify(c, ctx).await,
    }
}
