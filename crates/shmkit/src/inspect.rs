//! Inspection of named objects: which exist, who holds them, and garbage collection.
//!
//! This is what the `shmkit` command-line tool shows (`shmkit ls`, `shmkit info`,
//! `shmkit gc`). It reads the backing store and, on Linux, `/proc`; it never opens a
//! handle, so inspecting an object does not keep it alive.
//!
//! ```
//! # #[cfg(target_os = "linux")]
//! # fn main() -> shmkit::Result<()> {
//! # let name = format!("Local\\doc-inspect-{}", std::process::id());
//! let mapping = shmkit::Mapping::create(&name, 4096)?;
//! let info = shmkit::inspect::info(&name)?;
//! assert_eq!(info.size, 4096);
//! assert_eq!(info.kind, Some(shmkit::Kind::Mapping));
//! // This process holds it, through `mapping`.
//! assert!(info.holders.iter().any(|h| h.pid == std::process::id() && h.handle));
//! # drop(mapping);
//! # Ok(()) }
//! # #[cfg(not(target_os = "linux"))]
//! # fn main() {}
//! ```
//!
//! On Windows every function fails with [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported):
//! Windows lists named objects only through undocumented calls.
//!
//! Listing, inspecting and collecting garbage are operations in the namespace (SPEC 5.3):
//! each first reclaims the objects whose every holder died, if any process died since
//! the last check (except a dry run of [`collect_garbage`], which changes nothing).

use crate::error::Result;
use crate::kind::Kind;
use crate::name::{Name, Namespace};
use crate::os::inspect as backend;

/// A process that holds an object: through a handle, a view, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Holder {
    /// The process id.
    pub pid: u32,
    /// The process's command name (`/proc/PID/comm` on Linux), when it can be read.
    pub command: Option<String>,
    /// The process has a handle open: it keeps the name alive.
    pub handle: bool,
    /// The process maps a view: it keeps the memory alive.
    pub view: bool,
}

/// One live object, as [`list`] and [`info`] see it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// The full name, namespace included: `Local\x` for an object created as `x`.
    pub name: String,
    /// The namespace.
    pub namespace: Namespace,
    /// What the name holds.
    pub kind: Option<Kind>,
    /// The size in bytes of a mapping's memory.
    pub size: u64,
    /// The owner's user id.
    pub owner: u32,
    /// The permission bits, `0o600` style.
    pub mode: u32,
    /// Whether it outlives its handles until removed by name.
    pub persistent: bool,
    /// The processes that hold it, by pid. Processes whose details the caller may not
    /// read (other users' processes, for a user other than root) are not listed.
    pub holders: Vec<Holder>,
    /// A channel's shape, depth and ends; `None` for the other kinds, and for a channel
    /// whose control page does not describe a ring (a file cut short or overwritten).
    pub channel: Option<ChannelInfo>,
}

/// What [`list`] and [`info`] show of a channel ([`Kind::Channel`]), read from its
/// control page without attaching to it: a snapshot, not one instant.
///
/// Which places are taken comes from the kernel (the ends' locks); the pids come from
/// words that every end may write, so they are hints: a pid is given only when its place
/// is taken and that process holds the channel (it is among the [`holders`](ObjectInfo::holders)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// The ring's size in bytes (the capacity it was made with, rounded up).
    pub capacity: u64,
    /// The largest message, in bytes.
    pub max_message: u64,
    /// How many senders may be attached at once.
    pub producers: u32,
    /// The bytes waiting to be received: the committed position minus the consumed one
    /// (records, their 16-byte headers and padding), at most `capacity`.
    pub depth: u64,
    /// Whether a receiver is attached.
    pub receiver_attached: bool,
    /// The attached receiver's pid, when it checks out.
    pub receiver: Option<u32>,
    /// How many senders are attached.
    pub senders_attached: u32,
    /// The attached senders' pids that check out, by place (a process with several
    /// senders appears once for each).
    pub senders: Vec<u32>,
}

/// An object freed by [`collect_garbage`] (or that a dry run would free).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reclaimed {
    /// The full name of the object.
    pub name: String,
    /// Its namespace.
    pub namespace: Namespace,
    /// What it was.
    pub kind: Option<Kind>,
    /// Its size in bytes.
    pub size: u64,
    /// The owner's user id (the objects of several users are freed only by root).
    pub owner: u32,
}

fn with_holders(found: Vec<crate::os::Found>) -> Vec<ObjectInfo> {
    let holders = backend::holders(&found);
    found
        .into_iter()
        .zip(holders)
        .map(|(f, hs)| {
            let holds = |pid: &u32| hs.iter().any(|h| h.pid == *pid && h.handle);
            let channel = f.channel.map(|c| ChannelInfo {
                capacity: c.capacity,
                max_message: c.max_message,
                producers: c.producers,
                depth: c.depth,
                receiver_attached: c.receiver_attached,
                receiver: c.receiver.filter(holds),
                senders_attached: c.senders_attached,
                senders: c.senders.into_iter().filter(holds).collect(),
            });
            ObjectInfo {
                name: f.name,
                namespace: f.namespace,
                kind: f.kind,
                size: f.size,
                owner: f.owner,
                mode: f.mode,
                persistent: f.persistent,
                holders: hs
                    .into_iter()
                    .map(|h| Holder {
                        pid: h.pid,
                        command: backend::command(h.pid),
                        handle: h.handle,
                        view: h.view,
                    })
                    .collect(),
                channel,
            }
        })
        .collect()
}

/// Every live object the current user can see, sorted by namespace and name: all of the
/// user's `Local\` objects and the user's own `Global\` objects.
///
/// With `all_users`, also the `Global\` objects of other users that the caller may read,
/// and other users' `Local\` objects where the system lets the caller read them (as root).
/// Objects the caller may not read are left out.
pub fn list(all_users: bool) -> Result<Vec<ObjectInfo>> {
    Ok(with_holders(backend::list(all_users)?))
}

/// The live object `name`, with its holders and their command names.
///
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when no live object has the name
/// (an object whose holders all died counts as gone, as it does for
/// [`Mapping::open`](crate::Mapping::open)); [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName)
/// for a name that breaks the naming rules.
pub fn info(name: &str) -> Result<ObjectInfo> {
    let parsed = Name::parse(name)?;
    let found = backend::find(&parsed)?;
    Ok(with_holders(vec![found]).remove(0))
}

/// Reclaims the objects of the current user's namespaces whose holders all died (every
/// non-persistent object that no process holds), and the records of dead processes.
/// Returns what it freed; with `dry_run`, changes nothing and returns what it would free.
///
/// Run by root, it covers the whole machine: every `Global\` object and every user's
/// `Local\` objects (on Linux, the per-user directories in the store and their fallbacks
/// in the users' runtime directories), by the same rule: an object goes only when no
/// process holds it. A directory that fails the checks every use makes (another user's,
/// too open, a symbolic link) is not entered, and only regular files named and headed as
/// objects are removed. Other users' gc covers their own `Local\` objects and the
/// `Global\` objects they may remove.
///
/// Reclamation also happens by itself, in the next operation in a namespace after a
/// holder dies (SPEC 5.3); this is the explicit pass.
pub fn collect_garbage(dry_run: bool) -> Result<Vec<Reclaimed>> {
    Ok(backend::collect_garbage(dry_run)?
        .into_iter()
        .map(|g| Reclaimed {
            name: g.name,
            namespace: g.namespace,
            kind: g.kind,
            size: g.size,
            owner: g.owner,
        })
        .collect())
}
