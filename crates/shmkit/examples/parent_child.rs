//! A parent shares a message with the child process it starts.
//!
//! The parent creates the mapping object `Local\sharedmemory` (1024 bytes), writes a
//! string into it and starts a child (this same program, run with `--child`). The child
//! knows nothing but the name: it opens the object with `Mapping::open`, maps a read
//! view and prints the string. The parent keeps its handle until the child has exited,
//! so the name stays alive for the child to find; when the parent closes it, the object
//! disappears.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p shmkit --example parent_child
//! ```
//!
//! Set `SHMKIT_EXAMPLE_SUFFIX` to append `-<suffix>` to the object's name, so that
//! several runs at once never share an object.

mod support;
use support::{object_name, read_message, run_other_side, write_message};

use shmkit::{Access, Mapping};
use std::error::Error;

/// The reference name of the object.
const NAME: &str = r"Local\sharedmemory";
/// The size of the object in bytes.
const SIZE: u64 = 1024;
/// What the parent writes.
const MESSAGE: &str = "Message from the parent process.";

fn main() -> Result<(), Box<dyn Error>> {
    let name = object_name(NAME);
    match std::env::args().nth(1).as_deref() {
        None => parent(&name),
        Some("--child") => child(&name),
        Some(other) => Err(format!("unknown argument {other:?} (expected none or --child)").into()),
    }
}

fn parent(name: &str) -> Result<(), Box<dyn Error>> {
    let mapping = Mapping::create(name, SIZE)?;
    println!("[parent] created {name} ({} bytes)", mapping.size());
    let view = mapping.map(Access::ReadWrite)?;
    write_message(&view, MESSAGE)?;
    println!("[parent] wrote {MESSAGE:?} to {name}");

    println!("[parent] starting the child and waiting for it to exit");
    let pid = run_other_side("--child", "parent", "the child")?;
    println!("[parent] the child (pid {pid}) has exited; closing {name}");
    Ok(())
}

fn child(name: &str) -> Result<(), Box<dyn Error>> {
    let mapping = Mapping::open(name, Access::Read)?;
    println!("[child] opened {name} ({} bytes)", mapping.size());
    let view = mapping.map(Access::Read)?;
    let message = read_message(&view)?;
    println!("[child] read {message:?}");
    Ok(())
}
