//! Remote write and remote read, as Prometheus speaks them.
//!
//! - Receiving: [`receive_write`] (1.0) and [`receive_write_v2`] (2.0) append one
//!   snappy/protobuf request through one `storage::Appender`, all or nothing; [`serve_read`]
//!   answers remote-read requests.
//! - Sending: [`WriteQueue`] tails a durable [`SampleSource`] and ships batches over sharded
//!   HTTP senders with backoff, so an outage of the remote end loses nothing the source still
//!   holds. [`DiskBuffer`] is such a source: agent mode appends into it directly
//!   ([`BufferAppendable`]); a full server mirrors TSDB commits into it ([`TeeAppendable`]).
//! - [`WriteManager`] runs one queue per `remote_write` entry over one buffer and applies
//!   configuration reloads.
//! - Reading remote data: [`ReadClient`] implements `storage::Queryable` over a remote-read URL;
//!   [`FanoutQueryable`] merges the local storage with those endpoints.
//!
//! The protobuf messages are in [`proto`], written with prost derives (no protoc).
//! Architecture invariant: no HTTP server framework here; the `api` crate routes requests to
//! the framework-agnostic functions of this crate.

mod client;
pub mod codec;
mod disk_buffer;
mod error;
mod fanout;
pub mod from_config;
mod manager;
pub mod metrics;
pub mod proto;
pub mod proto_v2;
mod queue;
mod read_client;
mod read_server;
mod receive;
mod source;

pub use client::{HttpOptions, SendError, post_write};
pub use disk_buffer::{
    BufferAppendable, BufferReader, DiskBuffer, DiskBufferOptions, TeeAppendable,
};
pub use error::RemoteError;
pub use fanout::FanoutQueryable;
pub use manager::WriteManager;
pub use metrics::{QueueMetrics, RemoteWriteMetrics};
pub use queue::{QueueOptions, QueueStats, WriteOptions, WriteQueue};
pub use read_client::{ReadClient, ReadOptions};
pub use read_server::{READ_CONTENT_TYPE, serve_read};
pub use receive::{MAX_AHEAD_MS, WriteStats, receive_write, receive_write_v2};
pub use source::{Position, SampleSource, SourceBatch};
