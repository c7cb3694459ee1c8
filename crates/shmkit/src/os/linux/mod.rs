//! The Linux backend: an emulation of Windows file-mapping objects over tmpfs files.
//! See `store` for the directory layout and `object` for the lifetime protocol.

pub(crate) mod inspect;
mod mapping;
pub(crate) mod object;
pub(crate) mod store;
mod sync;
pub(crate) mod sys;

pub(crate) use mapping::{create, open, open_os, remove, Handle, RawView};
pub(crate) use sync::{create_sync, open_sync, SyncHandle};
