//! A "shared library" that keeps its data in named shared memory, so that every process
//! that loads it sees the same data.
//!
//! The module `shmemlib` below plays the part of the library. Loading it (`init`) creates
//! or opens the object `dllmemfilemap` (4096 bytes) and maps a view of it; the process
//! that was first (`already_existed() == false`) zero-fills the memory, the others keep
//! its contents. The library exports `set_shared_mem` and `get_shared_mem`, and unloading
//! it (dropping what `init` returned) unmaps the view and closes the handle.
//!
//! The parent loads the library, writes a string through it and starts a child (this
//! same program, run with `--child`), which loads the library too and reads the string
//! through it. The parent keeps the library loaded until the child has exited.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p shmkit --example shared_library
//! ```
//!
//! Set `SHMKIT_EXAMPLE_SUFFIX` to append `-<suffix>` to the object's name, so that
//! several runs at once never share an object.

mod support;
use support::{object_name, run_other_side};

use std::error::Error;

/// What the parent stores through the library.
const TEXT: &str = "This is a test string";

/// The library: its state lives in the shared object, reached through a view that the
/// library keeps for as long as it is loaded.
mod shmemlib {
    use shmkit::{Access, Mapping, View};
    use std::error::Error;
    use std::sync::{Mutex, MutexGuard};

    /// The reference name of the library's object (a bare name, so `Local\`).
    const NAME: &str = "dllmemfilemap";
    /// The size of the library's object in bytes.
    const SIZE: u64 = 4096;

    /// What a loaded library holds: the handle and the view.
    struct Loaded {
        _mapping: Mapping,
        view: View,
    }

    /// The library's global state (`None` while not loaded).
    static STATE: Mutex<Option<Loaded>> = Mutex::new(None);

    fn state() -> MutexGuard<'static, Option<Loaded>> {
        STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The loaded library. Dropping it unloads the library: the view is unmapped and the
    /// handle closed, so the object goes away with its last user.
    #[must_use = "dropping the library unloads it"]
    pub struct Library {
        name: String,
        size: u64,
        first: bool,
    }

    impl Library {
        /// The name of the library's object.
        pub fn name(&self) -> &str {
            &self.name
        }

        /// The size of the library's object in bytes.
        pub fn size(&self) -> u64 {
            self.size
        }

        /// Whether this process was the first to load the library (and so zero-filled
        /// the memory).
        pub fn was_first(&self) -> bool {
            self.first
        }
    }

    impl Drop for Library {
        fn drop(&mut self) {
            state().take();
        }
    }

    /// Loads the library: creates or opens its object, maps it, and zero-fills it when
    /// this process is the first.
    pub fn init() -> Result<Library, Box<dyn Error>> {
        let mut state = state();
        if state.is_some() {
            return Err("the library is already loaded in this process".into());
        }
        let name = super::object_name(NAME);
        let mapping = Mapping::create(&name, SIZE)?;
        let first = !mapping.already_existed();
        let view = mapping.map(Access::ReadWrite)?;
        if first {
            view.write(0, &vec![0; view.len()])?;
        }
        let size = mapping.size();
        *state = Some(Loaded {
            _mapping: mapping,
            view,
        });
        Ok(Library { name, size, first })
    }

    /// Stores `text` in the shared memory, NUL-terminated.
    pub fn set_shared_mem(text: &str) -> Result<(), Box<dyn Error>> {
        let state = state();
        let loaded = state.as_ref().ok_or("the library is not loaded")?;
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
        loaded.view.write(0, &bytes)?;
        Ok(())
    }

    /// The string stored in the shared memory.
    pub fn get_shared_mem() -> Result<String, Box<dyn Error>> {
        let state = state();
        let loaded = state.as_ref().ok_or("the library is not loaded")?;
        let mut bytes = vec![0; loaded.view.len()];
        loaded.view.read(0, &mut bytes)?;
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        bytes.truncate(end);
        Ok(String::from_utf8(bytes)?)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    match std::env::args().nth(1).as_deref() {
        None => parent(),
        Some("--child") => child(),
        Some(other) => Err(format!("unknown argument {other:?} (expected none or --child)").into()),
    }
}

fn parent() -> Result<(), Box<dyn Error>> {
    let library = shmemlib::init()?;
    report_load("parent", &library);
    shmemlib::set_shared_mem(TEXT)?;
    println!("[parent] set_shared_mem({TEXT:?})");

    println!("[parent] starting the child and waiting for it to exit");
    let pid = run_other_side("--child", "parent", "the child")?;
    println!("[parent] the child (pid {pid}) has exited; unloading the library");
    drop(library);
    Ok(())
}

fn child() -> Result<(), Box<dyn Error>> {
    let library = shmemlib::init()?;
    report_load("child", &library);
    let text = shmemlib::get_shared_mem()?;
    println!("[child] get_shared_mem() = {text:?}");
    println!("[child] unloading the library");
    drop(library);
    Ok(())
}

fn report_load(side: &str, library: &shmemlib::Library) {
    println!(
        "[{side}] loaded the library: {} ({} bytes), first = {}, {}",
        library.name(),
        library.size(),
        library.was_first(),
        if library.was_first() {
            "so it zero-filled the memory"
        } else {
            "so it kept the memory as it was"
        }
    );
}
