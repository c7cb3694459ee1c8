//! `demo`: the parent/child scenario of the reference documents, narrated, with named
//! events so that each side reads only after the other has written.
//!
//! The parent creates `Local\shmkit-demo-<pid>` and three auto-reset events named after
//! it (`.ready`, `.written`, `.answered`), and starts itself as the child (the hidden
//! `demo-child` command). The child opens them by name and says it is ready; the parent
//! writes a message and sets `.written`; the child, woken by it, prints the message,
//! writes an answer and sets `.answered`; the parent reads the answer, closes its handles
//! and shows that the names went with them. On Linux the parent also lists the holders
//! of the mapping once the child has gone; Windows has no such listing (see `objects`),
//! so there that line is left out.

use crate::objects::printable;
use anyhow::{bail, Context, Result};
use shmkit::sync::{Event, EventReset};
use shmkit::{Access, ErrorKind, Mapping, Name};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const SIZE: u64 = 1024;
/// Where the child writes its answer.
const ANSWER_AT: usize = 512;
/// How long either side waits for the other before giving up.
const PATIENCE: Duration = Duration::from_secs(30);

/// The text at `offset` of `view`, up to the first NUL (the memory is zero-filled).
fn text_at(view: &shmkit::View, offset: usize, max: usize) -> Result<String> {
    let mut buf = vec![0u8; max];
    view.read(offset, &mut buf)?;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

fn event_name(mapping: &str, what: &str) -> String {
    format!("{mapping}.{what}")
}

/// Waits for `event`, or fails naming what did not happen.
fn wait(event: &Event, what: &str) -> Result<()> {
    if !event.wait_timeout(PATIENCE)? {
        bail!("{what} did not happen within {PATIENCE:?}");
    }
    Ok(())
}

/// Waits for the child to exit, killing it after the deadline.
fn reap(mut child: Child) -> Result<()> {
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the child did not finish within {PATIENCE:?}; it was killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if !status.success() {
        bail!("the child failed ({status})");
    }
    Ok(())
}

pub fn parent() -> Result<()> {
    let pid = std::process::id();
    let name = format!("Local\\shmkit-demo-{pid}");
    println!("shmkit demo: two processes share memory through a named mapping object,");
    println!("and take turns through named events.");
    println!();
    println!("1. parent (pid {pid}) creates {name}, {SIZE} bytes, zero-filled, and the");
    println!("   auto-reset events {name}.ready, .written and .answered");
    let mapping = Mapping::create_new(&name, SIZE)?;
    let view = mapping.map(Access::ReadWrite)?;
    let event = |what: &str| Event::create_new(&event_name(&name, what), EventReset::Auto, false);
    let (ready, written, answered) = (event("ready")?, event("written")?, event("answered")?);

    let exe = std::env::current_exe().context("cannot find this program to start the child")?;
    println!(
        "2. parent starts a child process: {} demo-child {name}",
        exe.display()
    );
    let child = Command::new(&exe)
        .arg("demo-child")
        .arg(&name)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let outcome = (|| -> Result<String> {
        wait(&ready, "the child's .ready")?;
        let message = format!("Hello from the parent process (pid {pid})!");
        println!("4. parent writes {message:?} at offset 0, then sets .written");
        view.write(0, message.as_bytes())?;
        written.set()?;
        wait(&answered, "the child's .answered")?;
        text_at(&view, ANSWER_AT, SIZE as usize - ANSWER_AT)
    })();
    let answer = match outcome {
        Ok(answer) => answer,
        Err(e) => {
            let _ = reap(child);
            return Err(e);
        }
    };
    reap(child)?;
    println!("6. parent, woken by .answered, reads the answer at offset {ANSWER_AT}: {answer:?}");
    // Where the library cannot list holders (Windows), the line is left out.
    match shmkit::inspect::info(&name) {
        Ok(info) => {
            let holders: Vec<String> = info.holders.iter().map(|h| h.pid.to_string()).collect();
            println!(
                "   the child has exited; holders of {name} now: pid {}",
                holders.join(", ")
            );
        }
        Err(e) if e.kind() == ErrorKind::NotSupported => {}
        Err(e) => return Err(e.into()),
    }

    println!("7. parent closes its view and its handles, the last ones");
    drop(view);
    drop(mapping);
    drop((ready, written, answered));

    match Mapping::open(&name, Access::Read) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            println!(
                "8. opening {name} again fails with error {} (ERROR_FILE_NOT_FOUND): the name \
                 went with its last handle",
                e.win32_code()
            );
        }
        Err(e) => return Err(e.into()),
        Ok(_) => bail!("{name} still exists after its last handle closed"),
    }
    if Event::open(&event_name(&name, "written")).is_ok() {
        bail!("{name}.written still exists after its last handle closed");
    }
    println!();
    println!("done.");
    Ok(())
}

pub fn child(name: &Name) -> Result<()> {
    let pid = std::process::id();
    let mapping = Mapping::open(name.as_str(), Access::ReadWrite)?;
    let view = mapping.map(Access::ReadWrite)?;
    let open = |what: &str| Event::open(&event_name(name.as_str(), what));
    let (ready, written, answered) = (open("ready")?, open("written")?, open("answered")?);
    println!(
        "3. child (pid {pid}) opens {} and its events by name, sets .ready and waits for .written",
        printable(&name.full()),
    );
    ready.set()?;
    wait(&written, "the parent's .written")?;
    let message = text_at(&view, 0, ANSWER_AT)?;
    println!("5. child, woken by .written, reads: {message:?}");
    let answer = format!("Hello back from the child (pid {pid})!");
    view.write(ANSWER_AT, answer.as_bytes())?;
    println!("   child writes its answer at offset {ANSWER_AT}, sets .answered and exits");
    answered.set()?;
    Ok(())
}
