//! A Win32-compatible C API over shmkit.
//!
//! C and C++ programs written against the Win32 shared-memory API (`CreateFileMapping`,
//! `MapViewOfFile`, named mutexes, events and semaphores, `CreateProcess` with inherited
//! handles...) build unchanged against the headers in `include/` and link against
//! `libshmkit_win32.so` or `libshmkit_win32.a`: they run natively, with the semantics of
//! docs/SPEC.md, and every failure sets the Win32 last-error code docs/SPEC.md gives.
//!
//! The library keeps a process-wide table of handles. A handle value names one entry:
//! a mapping, a file, a mutex, an event, a semaphore, a process or a thread.
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

// On Windows the real Win32 API is there: this crate is then empty.
#[cfg(target_os = "linux")]
mod access;
#[cfg(target_os = "linux")]
mod apc;
#[cfg(target_os = "linux")]
mod cmdline;
#[cfg(target_os = "linux")]
mod codepage;
#[cfg(target_os = "linux")]
mod conmode;
#[cfg(target_os = "linux")]
mod console;
#[cfg(target_os = "linux")]
mod critical;
#[cfg(target_os = "linux")]
mod dll;
#[cfg(target_os = "linux")]
mod environment;
#[cfg(target_os = "linux")]
mod error;
#[cfg(target_os = "linux")]
mod exception;
#[cfg(target_os = "linux")]
mod file;
#[cfg(target_os = "linux")]
mod filesystem;
#[cfg(target_os = "linux")]
mod handles;
#[cfg(target_os = "linux")]
mod heap;
#[cfg(target_os = "linux")]
mod inherit;
#[cfg(target_os = "linux")]
mod initonce;
#[cfg(target_os = "linux")]
mod library;
#[cfg(target_os = "linux")]
mod lstr;
#[cfg(target_os = "linux")]
mod mapping;
#[cfg(target_os = "linux")]
mod module;
#[cfg(target_os = "linux")]
mod ntwait;
#[cfg(target_os = "linux")]
mod objects;
#[cfg(target_os = "linux")]
mod pointers;
#[cfg(target_os = "linux")]
mod privmem;
#[cfg(target_os = "linux")]
mod process;
#[cfg(target_os = "linux")]
mod security;
#[cfg(target_os = "linux")]
mod slist;
#[cfg(target_os = "linux")]
mod strings;
#[cfg(target_os = "linux")]
mod suspend;
#[cfg(target_os = "linux")]
mod sync;
#[cfg(target_os = "linux")]
mod sync_ex;
#[cfg(target_os = "linux")]
mod system;
#[cfg(target_os = "linux")]
mod thread;
#[cfg(target_os = "linux")]
mod threadctl;
#[cfg(target_os = "linux")]
mod timer;
#[cfg(target_os = "linux")]
mod timerqueue;
#[cfg(target_os = "linux")]
mod timing;
#[cfg(target_os = "linux")]
mod types;
#[cfg(target_os = "linux")]
mod views;
#[cfg(target_os = "linux")]
mod vmem;
#[cfg(target_os = "linux")]
mod wait;

#[cfg(target_os = "linux")]
pub use {
    apc::{QueueUserAPC, ResumeThread, SuspendThread, TerminateThread},
    console::*,
    critical::*,
    dll::*,
    error::{GetLastError, SetLastError},
    file::*,
    filesystem::*,
    handles::{CloseHandle, DuplicateHandle, GetHandleInformation, SetHandleInformation},
    heap::*,
    library::*,
    mapping::*,
    module::*,
    pointers::*,
    process::*,
    security::*,
    slist::*,
    strings::*,
    sync::*,
    sync_ex::*,
    system::*,
    thread::*,
    types::*,
    views::*,
    vmem::*,
    wait::*,
};

/// Runs when the shared library is loaded, before the program's `main`: rebuilds the
/// handles a parent handed down, so that they exist under their values from the start.
#[cfg(target_os = "linux")]
extern "C" fn on_load() {
    let _ = std::panic::catch_unwind(handles::init);
}

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;
