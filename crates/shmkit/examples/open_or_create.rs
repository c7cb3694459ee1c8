//! Open-or-create: two processes make the same `Mapping::create` call, and the second one
//! gets the first one's object.
//!
//! The first process creates `sharememory` with `Mapping::create`, which reports
//! `already_existed() == false`, writes "This is common data!" and starts the second
//! process (this same program, run with `--second`), then waits for it. The second process
//! calls `Mapping::create` with the same name: the object is already there, so the call
//! opens it (`already_existed() == true`, Win32's `ERROR_ALREADY_EXISTS`) and the second
//! process reads the first one's data.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p shmkit --example open_or_create
//! ```
//!
//! Set `SHMKIT_EXAMPLE_SUFFIX` to append `-<suffix>` to the object's name, so that
//! several runs at once never share an object.

mod support;
use support::{object_name, read_message, run_other_side, write_message};

use shmkit::{Access, Mapping};
use std::error::Error;

/// The reference name of the object (a bare name, which means `Local\sharememory`).
const NAME: &str = "sharememory";
/// The size of the object in bytes.
const SIZE: u64 = 1024;
/// What the first process writes.
const DATA: &str = "This is common data!";

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
    let mapping = Mapping::create(name, SIZE)?;
    println!(
        "[first] Mapping::create({name:?}, {SIZE}): already_existed() == {} ({} bytes)",
        mapping.already_existed(),
        mapping.size()
    );
    if mapping.already_existed() {
        return Err(format!("[first] {name} already existed: is another run using it?").into());
    }
    let view = mapping.map(Access::ReadWrite)?;
    write_message(&view, DATA)?;
    println!("[first] wrote {DATA:?}");

    println!("[first] starting the second process and waiting for it to exit");
    let pid = run_other_side("--second", "first", "the second process")?;
    println!("[first] the second process (pid {pid}) has exited; closing {name}");
    Ok(())
}

fn second(name: &str) -> Result<(), Box<dyn Error>> {
    let mapping = Mapping::create(name, SIZE)?;
    println!(
        "[second] Mapping::create({name:?}, {SIZE}): already_existed() == {} ({} bytes)",
        mapping.already_existed(),
        mapping.size()
    );
    if !mapping.already_existed() {
        return Err(format!("[second] expected to open the first process's {name}").into());
    }
    let view = mapping.map(Access::Read)?;
    let data = read_message(&view)?;
    println!("[second] read {data:?}");
    Ok(())
}
