//! `demo`: the parent/child scenario of the reference documents, narrated.
//!
//! The parent creates `Local\shmkit-demo-<pid>`, writes a message, and starts itself as
//! the child (the hidden `demo-child` command), which opens the object by name, prints
//! the message and writes an answer. The parent reads the answer, closes its handle and
//! shows that the name went with it.

use crate::objects::printable;
use anyhow::{bail, Context, Result};
use shmkit::{inspect, Access, ErrorKind, Mapping, Name};
use std::process::Command;
use std::time::{Duration, Instant};

const SIZE: u64 = 1024;
/// Where the child writes its answer.
const ANSWER_AT: usize = 512;
/// How long the child may take before the parent gives up on it.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// The text at `offset` of `view`, up to the first NUL (the memory is zero-filled).
fn text_at(view: &shmkit::View, offset: usize, max: usize) -> Result<String> {
    let mut buf = vec![0u8; max];
    view.read(offset, &mut buf)?;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

pub fn parent() -> Result<()> {
    let pid = std::process::id();
    let name = format!("Local\\shmkit-demo-{pid}");
    println!("shmkit demo: two processes share memory through a named mapping object.");
    println!();
    println!("1. parent (pid {pid}) creates {name}, {SIZE} bytes, zero-filled");
    let mapping = Mapping::create_new(&name, SIZE)?;
    let view = mapping.map(Access::ReadWrite)?;

    let message = format!("Hello from the parent process (pid {pid})!");
    println!("2. parent writes {message:?} at offset 0");
    view.write(0, message.as_bytes())?;

    let exe = std::env::current_exe().context("cannot find this program to start the child")?;
    println!(
        "3. parent starts a child process: {} demo-child {name}",
        exe.display()
    );
    let mut child = Command::new(&exe)
        .arg("demo-child")
        .arg(&name)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the child did not finish within {CHILD_TIMEOUT:?}; it was killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if !status.success() {
        bail!("the child failed ({status})");
    }

    let answer = text_at(&view, ANSWER_AT, SIZE as usize - ANSWER_AT)?;
    println!("5. parent reads the child's answer at offset {ANSWER_AT}: {answer:?}");
    let holders: Vec<String> = inspect::info(&name)?
        .holders
        .iter()
        .map(|h| h.pid.to_string())
        .collect();
    println!(
        "   the child has exited; holders of {name} now: pid {}",
        holders.join(", ")
    );

    println!("6. parent closes its view and its handle, the last ones");
    drop(view);
    drop(mapping);

    match Mapping::open(&name, Access::Read) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            println!(
                "7. opening {name} again fails with error {} (ERROR_FILE_NOT_FOUND): the name \
                 went with its last handle",
                e.win32_code()
            );
        }
        Err(e) => return Err(e.into()),
        Ok(_) => bail!("{name} still exists after its last handle closed"),
    }
    println!();
    println!("done.");
    Ok(())
}

pub fn child(name: &Name) -> Result<()> {
    let pid = std::process::id();
    let mapping = Mapping::open(name.as_str(), Access::ReadWrite)?;
    let view = mapping.map(Access::ReadWrite)?;
    let message = text_at(&view, 0, ANSWER_AT)?;
    println!(
        "4. child (pid {pid}) opens {} by name and reads: {:?}",
        printable(&name.full()),
        message
    );
    let answer = format!("Hello back from the child (pid {pid})!");
    view.write(ANSWER_AT, answer.as_bytes())?;
    println!("   child writes its answer at offset {ANSWER_AT} and exits");
    Ok(())
}
