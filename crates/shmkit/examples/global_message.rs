//! Two processes that share nothing but a name exchange a message through
//! `Global\MyFileMappingObject`.
//!
//! The first process creates the object (256 bytes), writes "Message from first
//! process." and waits. The second process (this same program, run with `--second`;
//! it inherits no handle, only the environment) opens the object by name with
//! read-write access, as `OpenFileMapping(FILE_MAP_ALL_ACCESS, ...)` does, and shows
//! the message. The first process waits for the second to exit before it closes its
//! handle, so the object lives until the second has read it.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p shmkit --example global_message
//! ```
//!
//! Set `SHMKIT_EXAMPLE_SUFFIX` to append `-<suffix>` to the object's name, so that
//! several runs at once never share an object.

mod support;
use support::{object_name, read_message, run_other_side, write_message};

use shmkit::{Access, Mapping};
use std::error::Error;

/// The reference name of the object.
const NAME: &str = r"Global\MyFileMappingObject";
/// The size of the object in bytes.
const BUF_SIZE: u64 = 256;
/// What the first process writes.
const MESSAGE: &str = "Message from first process.";

fn main() -> Result<(), Box<dyn Error>> {
    let name = object_name(NAME);
    match std::env::args().nth(1).as_deref() {
        None => first(&name),
        Some("--second") => second(&name),
        Some(other) => {
            Err(format!("unknown argument {other:?} (expected none or --second)").into())
        }
    }
}

fn first(name: &str) -> Result<(), Box<dyn Error>> {
    let mapping = Mapping::create(name, BUF_SIZE)?;
    println!("[first] created {name} ({} bytes)", mapping.size());
    let view = mapping.map(Access::ReadWrite)?;
    write_message(&view, MESSAGE)?;
    println!("[first] wrote {MESSAGE:?} to {name}");

    println!("[first] starting the second process and waiting for it to exit");
    let pid = run_other_side("--second", "first", "the second process")?;
    println!("[first] the second process (pid {pid}) has exited; closing {name}");
    Ok(())
}

fn second(name: &str) -> Result<(), Box<dyn Error>> {
    let mapping = Mapping::open(name, Access::ReadWrite)?;
    println!("[second] opened {name} ({} bytes)", mapping.size());
    let view = mapping.map(Access::ReadWrite)?;
    let message = read_message(&view)?;
    println!("[second] message: {message:?}");
    Ok(())
}
