//! Named shared memory between processes, with the semantics of Windows file-mapping
//! objects on every platform.
//!
//! Create or open a memory object by name (`Global\`, `Local\` or bare), map views of it,
//! share it with unrelated processes or with children, back it by memory or by a file,
//! and let it vanish when its last handle closes — even when its holders were killed.
//!
//! ```
//! # fn main() -> shmkit::Result<()> {
//! use shmkit::{Access, Mapping};
//! # let name = format!("Local\\doc-{}", std::process::id());
//! let writer = Mapping::create(&name, 4096)?;
//! writer.map(Access::ReadWrite)?.write(0, b"hello")?;
//!
//! // Another process would do just this:
//! let reader = Mapping::open(&name, Access::Read)?;
//! let mut buf = [0u8; 5];
//! reader.map(Access::Read)?.read(0, &mut buf)?;
//! assert_eq!(&buf, b"hello");
//! # Ok(()) }
//! ```
//!
//! The behaviour contract is the project's docs/SPEC.md, whose rules the code cites as
//! "SPEC n.m"; [`Error::win32_code`] gives the Win32 error code of
//! each broken rule.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(not(any(target_os = "linux", windows)))]
compile_error!("shmkit supports Linux and Windows");

pub mod channel;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(target_os = "linux")]
pub mod inherit;
pub mod inspect;
mod kind;
mod mapping;
mod name;
mod os;
mod params;
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub mod signal;
pub mod sync;
mod token;
mod view;

#[cfg(unix)]
pub use error::classify_errno;
pub use error::{code, Error, ErrorKind, Result};
pub use kind::{Access, Acquire, Kind, Protection};
pub use mapping::{Mapping, MappingOptions};
pub use name::{quoted, Name, Namespace, MAX_NAME_LEN};
pub use sync::{Event, EventReset, Guarded, Mutex, MutexGuard, Semaphore, ShmSafe, SyncOptions};
pub use view::View;

/// The allocation granularity: view offsets are multiples of 64 KiB on every platform.
pub const GRANULARITY: u64 = 65_536;
