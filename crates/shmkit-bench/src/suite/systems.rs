//! The systems the suite measures, in the order of the report. Each is two endpoint
//! functions of its own file ([`super::system::System`]); adding one is listing it here.

use super::system::System;

/// The systems whose one-way latency is measured, in the order of the report: the
/// shmkit channel in its three `Wait` modes first.
pub fn latency_systems() -> Vec<System> {
    vec![
        super::channel::LATENCY_BUSY,
        super::channel::LATENCY_BLOCK,
        super::channel::LATENCY_ADAPTIVE,
        super::flag::SPIN,
        super::flag::FUTEX,
        super::iox::LATENCY_BUSY,
        super::iox::LATENCY_EVENT,
        super::stream::UNIX_SOCKET,
        super::stream::PIPE,
    ]
}

/// The systems whose streaming throughput of [`super::plan::STREAM_SIZE`] messages is
/// measured: the shmkit channel's loan/commit first.
pub fn stream_systems() -> Vec<System> {
    vec![super::channel::STREAM, super::iox::STREAM]
}
