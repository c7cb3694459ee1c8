//! Helpers the example programs share; not an example itself.
// Each example uses only some of them.
#![allow(dead_code)]

use shmkit::View;
use std::error::Error;
use std::process::Command;

/// `base`, with `-<suffix>` appended when `SHMKIT_EXAMPLE_SUFFIX` is set, so that several
/// runs at once never share an object.
pub fn object_name(base: &str) -> String {
    match std::env::var("SHMKIT_EXAMPLE_SUFFIX") {
        Ok(suffix) if !suffix.is_empty() => format!("{base}-{suffix}"),
        _ => base.to_owned(),
    }
}

/// Writes `text` at the start of the view as a NUL-terminated string.
pub fn write_message(view: &View, text: &str) -> shmkit::Result<()> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    view.write(0, &bytes)
}

/// Reads the NUL-terminated string at the start of the view.
pub fn read_message(view: &View) -> Result<String, Box<dyn Error>> {
    let mut bytes = vec![0; view.len()];
    view.read(0, &mut bytes)?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.truncate(end);
    Ok(String::from_utf8(bytes)?)
}

/// Runs this program again with `arg`, as the other side of the scenario, and waits for it
/// to exit; returns its pid. `me` and `other` name the two sides in the error.
pub fn run_other_side(arg: &str, me: &str, other: &str) -> Result<u32, Box<dyn Error>> {
    let mut process = Command::new(std::env::current_exe()?).arg(arg).spawn()?;
    let pid = process.id();
    let status = process.wait()?;
    if !status.success() {
        return Err(format!("[{me}] {other} (pid {pid}) failed ({status})").into());
    }
    Ok(pid)
}
