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

use shmkit::{Access, ErrorKind, Mapping, View};
use std::error::Error;
use std::process::Command;

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
