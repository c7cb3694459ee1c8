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

use shmkit::{Access, Mapping, View};
use std::error::Error;
use std::process::Command;

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
    let mut second = Command::new(std::env::current_exe()?)
        .arg("--second")
        .spawn()?;
    let pid = second.id();
    let status = second.wait()?;
    if !status.success() {
        return Err(format!("[first] the second process (pid {pid}) failed ({status})").into());
    }
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

/// `base`, with `-<suffix>` appended when `SHMKIT_EXAMPLE_SUFFIX` is set.
fn object_name(base: &str) -> String {
    match std::env::var("SHMKIT_EXAMPLE_SUFFIX") {
        Ok(suffix) if !suffix.is_empty() => format!("{base}-{suffix}"),
        _ => base.to_owned(),
    }
}

/// Writes `text` at the start of the view as a NUL-terminated string.
fn write_message(view: &View, text: &str) -> shmkit::Result<()> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    view.write(0, &bytes)
}

/// Reads the NUL-terminated string at the start of the view.
fn read_message(view: &View) -> Result<String, Box<dyn Error>> {
    let mut bytes = vec![0; view.len()];
    view.read(0, &mut bytes)?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.truncate(end);
    Ok(String::from_utf8(bytes)?)
}
