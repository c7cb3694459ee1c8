//! `shmkit bench`: the side-by-side suite, in one run of one binary (`shmkit-bench`).
//!
//! Measured, each figure the median of `--runs` runs (3 by default), each run measuring
//! every system:
//!
//! - **one-way latency** (half the round trip of a ping-pong) at 64 B, 4 KiB, 64 KiB and
//!   1 MiB, p50, p99 and p99.9, of every system in [`systems::latency_systems`];
//! - **streaming throughput** of 1 MiB messages of every system in
//!   [`systems::stream_systems`], next to the single-core rates of reading every byte of
//!   a 1 MiB buffer and of copying it (`memcpy`);
//! - **the mapping life cycle**: `shmkit::Mapping` create, map, write a byte, drop,
//!   against `shm_open`, `ftruncate`, `mmap`, a write, `munmap`, `close`, `shm_unlink`.
//!
//! Every system does the same work per message ([`work`]): the sender writes every byte,
//! the receiver reads every byte and checks them. Each end of a system is a process of
//! its own (the bench binary started again, [`child`]), pinned to a CPU of its own (`0`
//! and `1` by default; the single-process rates run on the first).
//!
//! A system is two endpoint functions ([`system::System`]); adding one is writing them
//! and listing the `System` in [`systems::latency_systems`] or
//! [`systems::stream_systems`].

pub mod channel;
pub mod child;
pub mod flag;
pub mod iox;
pub mod os;
pub mod plan;
pub mod plot;
pub mod report;
pub mod run;
pub mod stats;
pub mod stream;
pub mod system;
pub mod systems;
pub mod table;
pub mod wake;
pub mod work;
