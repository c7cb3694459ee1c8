//! The Linux backend: an emulation of Windows file-mapping objects over tmpfs files.
//!
//! | file | what |
//! |---|---|
//! | `store/` | the namespace directories and the leases of live processes |
//! | `object/header.rs` | the header every object file starts with |
//! | `object/protocol.rs` | the one create-or-open, open, close and reclamation |
//! | `file_name.rs` | how a name becomes a file name in its directory |
//! | `mapping.rs`, `backing.rs`, `posix.rs`, `view.rs` | mappings: memory, file-backed, plain POSIX objects, views |
//! | `sync/` | mutexes (`owner.rs`, over `crate::sync::lockword`), events and semaphores (`futex.rs`) over a shared `page.rs` |
//! | `channel.rs` | channels: the mapped ring and control page, the ends' byte locks |
//! | `inherit.rs` | descriptors handed to child processes |
//! | `sigbus.rs` | copies that fail cleanly, not with SIGBUS, when a mapped file shrinks |
//! | `inspect.rs` | listing, holders and garbage collection |
//! | `sys.rs` | the system calls the others share |

mod backing;
mod channel;
mod file_name;
pub(crate) mod inherit;
pub(crate) mod inspect;
mod mapping;
mod object;
mod posix;
mod sigbus;
mod store;
mod sync;
mod sys;
mod view;

pub(crate) use channel::{create_channel, open_channel, ChannelHandle};
pub(crate) use mapping::{create, open, remove, Handle};
pub(crate) use posix::open_os;
pub(crate) use sync::{create_sync, open_sync, wait_many, wake_all, SyncHandle};
pub(crate) use view::RawView;

/// What the fuzz targets drive through `crate::fuzzing`.
#[cfg(fuzzing)]
pub(crate) mod fuzzing {
    pub(crate) use super::file_name::{decode_file_name, file_name};
    pub(crate) use super::object::Header;
}
