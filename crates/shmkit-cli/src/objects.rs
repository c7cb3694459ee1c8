//! `ls`, `info`, `rm` and `gc`: what exists, who holds it, and cleaning up.
//!
//! `ls`, `info` and `gc` rest on the library's `inspect` module. Where it cannot list
//! objects (Windows) it fails with `ErrorKind::NotSupported`, saying why, and so do they
//! (status 1); `rm` then leaves the explanation of an object that is not persistent to
//! the library.

use crate::units::format_size;
use anyhow::{Context, Result};
use serde::Serialize;
use shmkit::inspect::{self, ChannelInfo, ObjectInfo};
use shmkit::{quoted, ErrorKind, Kind, Mapping, Name};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

/// One object in the `--json` output of `ls` (an array of these) and `info` (one).
///
/// The format is stable: these fields keep their names and types.
#[derive(Debug, Serialize)]
struct JsonObject<'a> {
    /// Full name, namespace included: `Local\x`.
    name: &'a str,
    /// `Local` or `Global`.
    namespace: &'static str,
    /// `mapping`, `mutex`, `event`, `semaphore` (or `unknown`).
    kind: &'static str,
    /// Size in bytes.
    size: u64,
    /// The owner's uid.
    owner: u32,
    /// Permission bits as a number (384 is 0o600).
    mode: u32,
    /// Whether the object outlives its handles.
    persistent: bool,
    /// Pids of the processes that hold a handle or a view, ascending.
    holders: Vec<u32>,
    /// A channel's shape, depth and ends; `null` for the other kinds.
    channel: Option<JsonChannel>,
}

/// The `channel` of a channel in the `--json` output.
#[derive(Debug, Serialize)]
struct JsonChannel {
    /// The ring's size in bytes.
    capacity: u64,
    /// The largest message in bytes.
    max_message: u64,
    /// How many senders may be attached at once.
    producers: u32,
    /// Bytes waiting to be received (records with their headers and padding).
    depth: u64,
    /// The receiver's pid, or `null` (none attached, or one whose pid does not check out).
    receiver: Option<u32>,
    /// The attached senders' pids that check out, by place.
    senders: Vec<u32>,
    /// Whether a receiver is attached.
    receiver_attached: bool,
    /// How many senders are attached.
    senders_attached: u32,
}

impl From<&ChannelInfo> for JsonChannel {
    fn from(c: &ChannelInfo) -> Self {
        JsonChannel {
            capacity: c.capacity,
            max_message: c.max_message,
            producers: c.producers,
            depth: c.depth,
            receiver: c.receiver,
            senders: c.senders.clone(),
            receiver_attached: c.receiver_attached,
            senders_attached: c.senders_attached,
        }
    }
}

/// A channel's receiver for the table: its pid, `?` for one attached whose pid does not
/// check out, `-` for none.
fn receiver_cell(c: &ChannelInfo) -> String {
    match (c.receiver, c.receiver_attached) {
        (Some(pid), _) => pid.to_string(),
        (None, true) => "?".to_owned(),
        (None, false) => "-".to_owned(),
    }
}

/// A channel's senders for the table: their pids, a `?` for each whose pid does not check
/// out, `-` for none.
fn senders_cell(c: &ChannelInfo) -> String {
    let mut cells: Vec<String> = c.senders.iter().map(u32::to_string).collect();
    let unknown = (c.senders_attached as usize).saturating_sub(c.senders.len());
    cells.extend(std::iter::repeat_n("?".to_owned(), unknown));
    if cells.is_empty() {
        "-".to_owned()
    } else {
        cells.join(",")
    }
}

impl<'a> From<&'a ObjectInfo> for JsonObject<'a> {
    fn from(o: &'a ObjectInfo) -> Self {
        JsonObject {
            name: &o.name,
            namespace: o.namespace.as_str(),
            kind: kind_word(o.kind),
            size: o.size,
            owner: o.owner,
            mode: o.mode,
            persistent: o.persistent,
            holders: o.holders.iter().map(|h| h.pid).collect(),
            channel: o.channel.as_ref().map(JsonChannel::from),
        }
    }
}

/// Text from the store or from other processes, made safe for a terminal: control
/// characters (which could move the cursor or recolour the screen) are escaped.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// The library's word for an object's kind; `unknown` for a kind this version of the
/// library does not know (an object made by a newer one).
fn kind_word(kind: Option<Kind>) -> &'static str {
    kind.map_or("unknown", Kind::as_str)
}

/// User names by uid, from /etc/passwd (numbers where it has none).
struct Users(HashMap<u32, String>);

impl Users {
    fn load() -> Users {
        let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let map = text
            .lines()
            .filter_map(|line| {
                let mut f = line.split(':');
                let name = f.next()?;
                let uid = f.nth(1)?.parse().ok()?;
                Some((uid, name.to_owned()))
            })
            .collect();
        Users(map)
    }

    fn name(&self, uid: u32) -> String {
        self.0
            .get(&uid)
            .map(|n| printable(n).into_owned())
            .unwrap_or_else(|| uid.to_string())
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub fn ls(json: bool, all: bool) -> Result<()> {
    let objects = inspect::list(all).context("cannot list the objects")?;
    let mut out = io::stdout().lock();
    if json {
        let rows: Vec<JsonObject<'_>> = objects.iter().map(JsonObject::from).collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    if objects.is_empty() {
        eprintln!("shmkit: no objects");
        return Ok(());
    }
    let users = Users::load();
    let header = [
        "NAME",
        "KIND",
        "SIZE",
        "OWNER",
        "MODE",
        "PERSISTENT",
        "HOLDERS",
        "DEPTH",
        "RECEIVER",
        "SENDERS",
    ];
    let rows: Vec<[String; 10]> = objects
        .iter()
        .map(|o| {
            let holders = if o.holders.is_empty() {
                "-".to_owned()
            } else {
                let pids: Vec<String> = o.holders.iter().map(|h| h.pid.to_string()).collect();
                pids.join(",")
            };
            [
                printable(&o.name).into_owned(),
                kind_word(o.kind).to_owned(),
                format_size(o.size),
                users.name(o.owner),
                format!("{:04o}", o.mode),
                yes_no(o.persistent).to_owned(),
                holders,
                o.channel
                    .as_ref()
                    .map_or("-".to_owned(), |c| format_size(c.depth)),
                o.channel.as_ref().map_or("-".to_owned(), receiver_cell),
                o.channel.as_ref().map_or("-".to_owned(), senders_cell),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut print_row = |cells: &[&str]| -> io::Result<()> {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())
    };
    print_row(&header)?;
    for row in &rows {
        print_row(&row.each_ref().map(String::as_str))?;
    }
    Ok(())
}

pub fn info(name: &Name, json: bool) -> Result<()> {
    let o = inspect::info(name.as_str()).map_err(|e| {
        // The library's other errors name the object already; this one says only why
        // nothing can be shown.
        if e.kind() == ErrorKind::NotSupported {
            anyhow::Error::new(e).context(format!("cannot show {}", quoted(&name.full())))
        } else {
            e.into()
        }
    })?;
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &JsonObject::from(&o))?;
        writeln!(out)?;
        return Ok(());
    }
    let users = Users::load();
    writeln!(out, "name        {}", printable(&o.name))?;
    writeln!(out, "namespace   {}", o.namespace)?;
    writeln!(out, "kind        {}", kind_word(o.kind))?;
    writeln!(
        out,
        "size        {} ({} bytes)",
        format_size(o.size),
        o.size
    )?;
    writeln!(out, "owner       {} (uid {})", users.name(o.owner), o.owner)?;
    writeln!(out, "mode        {:04o}", o.mode)?;
    writeln!(out, "persistent  {}", yes_no(o.persistent))?;
    if let Some(c) = &o.channel {
        let size = |n: u64| format!("{} ({n} bytes)", format_size(n));
        writeln!(out, "capacity    {}", size(c.capacity))?;
        writeln!(out, "max message {}", size(c.max_message))?;
        writeln!(out, "producers   {}", c.producers)?;
        writeln!(out, "depth       {} waiting", size(c.depth))?;
        writeln!(out, "receiver    {}", receiver_cell(c))?;
        writeln!(out, "senders     {}", senders_cell(c))?;
    }
    if o.holders.is_empty() {
        writeln!(out, "holders     none")?;
    }
    for (i, h) in o.holders.iter().enumerate() {
        let how = match (h.handle, h.view) {
            (true, true) => "handle, view",
            (true, false) => "handle",
            _ => "view",
        };
        let command = h
            .command
            .as_deref()
            .map(printable)
            .unwrap_or(Cow::Borrowed("?"));
        let label = if i == 0 { "holders" } else { "" };
        writeln!(out, "{label:<12}{} ({command}): {how}", h.pid)?;
    }
    Ok(())
}

fn holder_list(o: &ObjectInfo) -> String {
    let held: Vec<String> = o
        .holders
        .iter()
        .map(|h| match &h.command {
            Some(c) => format!("{} ({})", h.pid, printable(c)),
            None => h.pid.to_string(),
        })
        .collect();
    if held.is_empty() {
        String::new()
    } else {
        format!("; held by pid {}", held.join(", "))
    }
}

/// Explains a non-persistent object, with its holders, before trying: it has no name to
/// remove by hand. Where inspection fails (Windows cannot list holders), the library's
/// own error for such an object explains it (it goes with its last handle).
pub fn rm(name: &Name) -> Result<()> {
    if let Ok(o) = inspect::info(name.as_str()) {
        if !o.persistent {
            anyhow::bail!(
                "cannot remove {}: it is not persistent, so it goes away by itself when its \
                 last holder closes it{}",
                quoted(&o.name),
                holder_list(&o)
            );
        }
    }
    Mapping::remove(name.as_str())?;
    Ok(())
}

pub fn gc(dry_run: bool) -> Result<()> {
    let freed = inspect::collect_garbage(dry_run).context("cannot collect garbage")?;
    let mut out = io::stdout().lock();
    let verb = if dry_run { "would free" } else { "freed" };
    // Root's pass frees every user's objects: each line says whose it was.
    let users = Users::load();
    for r in &freed {
        writeln!(
            out,
            "{verb} {} ({}, {}) of {} (uid {})",
            printable(&r.name),
            kind_word(r.kind),
            format_size(r.size),
            users.name(r.owner),
            r.owner
        )?;
    }
    let total: u64 = freed.iter().map(|r| r.size).sum();
    match freed.len() {
        0 => writeln!(out, "nothing to free")?,
        1 => writeln!(out, "{verb} 1 object, {}", format_size(total))?,
        n => writeln!(out, "{verb} {n} objects, {} in all", format_size(total))?,
    }
    Ok(())
}
