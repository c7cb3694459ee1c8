//! The create-exclusive idiom: only one process may create the object; the others learn
//! that it exists and open it instead.
//!
//! The first process creates `MyFileMappingObject` (a bare name, which means `Local\`)
//! with `Mapping::create_new`, writes "Message from first process." and waits. The second
//! process (this same program, run with `--second`) tries `Mapping::create_new` too and
//! gets `ErrorKind::AlreadyExists`, whose Win32 code is 183 (`ERROR_ALREADY_EXISTS`); it
//! then opens the object with `Mapping::open` and shows the message. The first process
//! waits for the second to exit before it closes its handle.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p shmkit --example create_exclusive
//! ```
//!
//! Set `SHMKIT_EXAMPLE_SUFFIX` to append `-<suffix>` to the object's name, so that
//! several runs at once never share an object.

mod support;
use support::{object_name, read_message, run_other_side, write_message};

use shmkit::{Access, ErrorKind, Mapping};
use std::error::Error;

/// The reference name of the object.
const NAME: &str = "MyFileMappingObject";
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
    let mapping = Mapping::create_new(name, BUF_SIZE)?;
    println!(
        "[first] Mapping::create_new({name:?}, {BUF_SIZE}) created the object ({} bytes)",
        mapping.size()
    );
    let view = mapping.map(Access::ReadWrite)?;
    write_message(&view, MESSAGE)?;
    println!("[first] wrote {MESSAGE:?} to {name}");

    println!("[first] starting the second process and waiting for it to exit");
    let pid = run_other_side("--second", "first", "the second process")?;
    println!("[first] the second process (pid {pid}) has exited; closing {name}");
    Ok(())
}

fn second(name: &str) -> Result<(), Box<dyn Error>> {
    match Mapping::create_new(name, BUF_SIZE) {
        Ok(_) => {
            return Err(format!(
                "[second] Mapping::create_new({name:?}) succeeded: the first process's object is gone"
            )
            .into())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => println!(
            "[second] Mapping::create_new({name:?}, {BUF_SIZE}) failed: {:?}, win32_code() == {} ({e})",
            e.kind(),
            e.win32_code()
        ),
        Err(e) => return Err(e.into()),
    }
    let mapping = Mapping::open(name, Access::ReadWrite)?;
    println!(
        "[second] Mapping::open({name:?}) opened the existing object ({} bytes)",
        mapping.size()
    );
    let view = mapping.map(Access::Read)?;
    let message = read_message(&view)?;
    println!("[second] message: {message:?}");
    Ok(())
}
