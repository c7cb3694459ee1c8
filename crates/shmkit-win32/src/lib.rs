//! A Win32-compatible C API over shmkit.
//!
//! C and C++ programs written against the Win32 shared-memory API (`CreateFileMapping`,
//! `MapViewOfFile`, named mutexes, events and semaphores, `CreateProcess` with inherited
//! handles...) build unchanged against the headers in `include/` and link against
//! `libshmkit_win32.so` or `libshmkit_win32.a`: they run natively, with the semantics of
//! SPEC.md, and every failure sets the Win32 last-error code SPEC.md gives.
//!
//! The library keeps a process-wide table of handles. A handle value names one entry:
//! a mapping, a file, a mutex, an event, a semaphore, a process or its main thread.
//! Views are tracked by their address, for `UnmapViewOfFile`, `FlushViewOfFile` and
//! `VirtualQuery`. Values are never reused, so a closed handle stays invalid
//! (`ERROR_INVALID_HANDLE`) for the life of the process.
//!
//! Handles marked inheritable reach a child started by `CreateProcess` with
//! `bInheritHandles`: the child's copy of this library rebuilds them, under the same
//! values, from the shmkit inheritance tokens the parent puts in the child's environment.
//!
//! Every exported function catches panics: none crosses into C.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(not(target_os = "linux"))]
compile_error!("shmkit-win32 provides the Win32 API on Linux; on Windows use the real one");

mod console;
mod dll;
mod error;
mod file;
mod handles;
mod mapping;
mod process;
mod strings;
mod sync;
mod types;
mod wait;

pub use console::*;
pub use dll::*;
pub use error::{GetLastError, SetLastError};
pub use file::*;
pub use handles::{CloseHandle, DuplicateHandle};
pub use mapping::*;
pub use process::*;
pub use strings::*;
pub use sync::*;
pub use types::*;
pub use wait::*;

/// Runs when the shared library is loaded, before the program's `main`: rebuilds the
/// handles a parent handed down, so that they exist under their values from the start.
extern "C" fn on_load() {
    let _ = std::panic::catch_unwind(handles::init);
}

#[used]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;
