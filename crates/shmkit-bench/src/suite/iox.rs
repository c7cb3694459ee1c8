//! iceoryx2 (the crate from crates.io), publish-subscribe of `[u8]` slices over
//! `ipc::Service`. Each process has its own node; both open-or-create the services, with
//! the names derived from the link's. A message is a loaned slice the sender fills in
//! place and sends; the receiver reads the sample in place and drops it.
//!
//! - Latency, `busy`: one service per direction (one publisher, one subscriber, a buffer
//!   of one sample, no history); the receiver polls `receive()`.
//! - Latency, `event`: the same plus an event service per direction: the sender notifies
//!   after each send, the receiver waits on its listener whenever `receive()` is empty.
//! - Streaming: one service, a subscriber buffer of [`STREAM_DEPTH`] samples without
//!   overflow, and a publisher that retries until delivered when the buffer is full (the
//!   flow control); the receiver polls. iceoryx2 drops a sample sent while the buffer is
//!   full and the subscriber has not yet attached to the publisher's connection (it
//!   attaches in a `receive`), so the receiver announces through an event that it got
//!   the first sample, and the sender waits for that before its second: once, before
//!   the warm-up.
//!
//! The nodes keep their records under [`root`] (inside the run's scratch directory) and
//! name their shared memory with [`prefix`], so that [`remove_run_files`] can find
//! whatever they leave.

use super::system::{Endpoint, Link, System};
use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::prelude::*;
use std::fmt::Debug;
use std::io;
use std::mem::MaybeUninit;
use std::path::{Path as StdPath, PathBuf};

/// Publish-subscribe, the receiver busy-polling.
pub const LATENCY_BUSY: System = System {
    system: "iceoryx2",
    mode: "busy",
    prepare: None,
    listen: latency_listen,
    connect: latency_connect,
};

/// Publish-subscribe with an event (notifier and listener) per direction.
pub const LATENCY_EVENT: System = System {
    system: "iceoryx2",
    mode: "event",
    prepare: None,
    listen: latency_listen,
    connect: latency_connect,
};

/// Streaming: loan, fill, send; receive, read, drop.
pub const STREAM: System = System {
    system: "iceoryx2",
    mode: "busy",
    prepare: None,
    listen: stream_listen,
    connect: stream_connect,
};

/// The subscriber's buffer in the streaming measurement, in samples.
pub const STREAM_DEPTH: usize = 4;

/// Where the nodes of a run keep their records: `<scratch>/iceoryx2/`.
pub fn root(scratch: &StdPath) -> PathBuf {
    scratch.join("iceoryx2")
}

/// The prefix of the shared-memory files of a run: `iox2-<scratch directory's name>-`.
pub fn prefix(scratch: &StdPath) -> String {
    let base = scratch
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("iox2-{base}-")
}

/// Removes the run's files in `/dev/shm` (those whose names start with its [`prefix`]);
/// returns those that a node should have removed itself, which are there only when a
/// process of the run was killed. (The one management file of the prefix, `*global_mgmt`,
/// iceoryx2 leaves by design.)
pub fn remove_run_files(scratch: &StdPath) -> Vec<PathBuf> {
    let prefix = prefix(scratch);
    let Ok(dir) = std::fs::read_dir("/dev/shm") else {
        return Vec::new();
    };
    let mut unexpected = Vec::new();
    for entry in dir.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) {
            continue;
        }
        let _ = std::fs::remove_file(entry.path());
        if !name.ends_with("global_mgmt") {
            unexpected.push(entry.path());
        }
    }
    unexpected
}

fn fail<E: Debug>(what: &'static str) -> impl FnOnce(E) -> io::Error {
    move |e| io::Error::other(format!("iceoryx2: {what}: {e:?}"))
}

type Ipc = ipc::Service;

fn node(link: &Link) -> io::Result<Node<Ipc>> {
    let mut config = Config::default();
    let root = format!("{}/", root(&link.scratch).display());
    config
        .global
        .set_root_path(&Path::new(root.as_bytes()).map_err(fail("the root path"))?);
    config.global.prefix =
        FileName::new(prefix(&link.scratch).as_bytes()).map_err(fail("the prefix"))?;
    NodeBuilder::new()
        .config(&config)
        .signal_handling_mode(SignalHandlingMode::Disabled)
        .create::<Ipc>()
        .map_err(fail("create the node"))
}

fn service_name(link: &Link, what: &str) -> io::Result<ServiceName> {
    ServiceName::new(&format!("shmkit-bench/{}/{what}", link.name)).map_err(fail("service name"))
}

/// A publish-subscribe service of one direction of the latency measurement.
fn latency_service(
    node: &Node<Ipc>,
    link: &Link,
    what: &str,
) -> io::Result<iceoryx2::service::port_factory::publish_subscribe::PortFactory<Ipc, [u8], ()>> {
    node.service_builder(&service_name(link, what)?)
        .publish_subscribe::<[u8]>()
        .max_publishers(1)
        .max_subscribers(1)
        .max_nodes(2)
        .history_size(0)
        .subscriber_max_buffer_size(1)
        .subscriber_max_borrowed_samples(1)
        .enable_safe_overflow(true)
        .open_or_create()
        .map_err(fail("open or create the service"))
}

fn event_service(
    node: &Node<Ipc>,
    link: &Link,
    what: &str,
) -> io::Result<iceoryx2::service::port_factory::event::PortFactory<Ipc>> {
    node.service_builder(&service_name(link, what)?)
        .event()
        .max_notifiers(1)
        .max_listeners(1)
        .max_nodes(2)
        .open_or_create()
        .map_err(fail("open or create the event service"))
}

/// The connecting end sends on `ab`, the listening end on `ba`.
fn latency_listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    latency_end(link, "ba", "ab")
}

fn latency_connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    latency_end(link, "ab", "ba")
}

fn latency_end(link: &Link, tx: &str, rx: &str) -> io::Result<Box<dyn Endpoint>> {
    let node = node(link)?;
    let tx_service = latency_service(&node, link, tx)?;
    let rx_service = latency_service(&node, link, rx)?;
    let publisher = tx_service
        .publisher_builder()
        .initial_max_slice_len(link.max_message)
        .max_loaned_samples(1)
        .create()
        .map_err(fail("create the publisher"))?;
    let subscriber = rx_service
        .subscriber_builder()
        .buffer_size(1)
        .create()
        .map_err(fail("create the subscriber"))?;
    let (notifier, listener) = if link.mode == "event" {
        let notifier = event_service(&node, link, &format!("{tx}-event"))?
            .notifier_builder()
            .create()
            .map_err(fail("create the notifier"))?;
        let listener = event_service(&node, link, &format!("{rx}-event"))?
            .listener_builder()
            .create()
            .map_err(fail("create the listener"))?;
        (Some(notifier), Some(listener))
    } else {
        (None, None)
    };
    Ok(Box::new(IoxEnd {
        publisher: Some(publisher),
        subscriber: Some(subscriber),
        notifier,
        listener,
        attach: None,
        _node: node,
    }))
}

fn stream_service(
    node: &Node<Ipc>,
    link: &Link,
) -> io::Result<iceoryx2::service::port_factory::publish_subscribe::PortFactory<Ipc, [u8], ()>> {
    node.service_builder(&service_name(link, "stream")?)
        .publish_subscribe::<[u8]>()
        .max_publishers(1)
        .max_subscribers(1)
        .max_nodes(2)
        .history_size(0)
        .subscriber_max_buffer_size(STREAM_DEPTH)
        .subscriber_max_borrowed_samples(1)
        .enable_safe_overflow(false)
        .open_or_create()
        .map_err(fail("open or create the stream service"))
}

fn stream_listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let node = node(link)?;
    let subscriber = stream_service(&node, link)?
        .subscriber_builder()
        .buffer_size(STREAM_DEPTH)
        .create()
        .map_err(fail("create the subscriber"))?;
    let announce = event_service(&node, link, "stream-attached")?
        .notifier_builder()
        .create()
        .map_err(fail("create the notifier"))?;
    Ok(Box::new(IoxEnd {
        publisher: None,
        subscriber: Some(subscriber),
        notifier: None,
        listener: None,
        attach: Some(Attach::Announce(announce)),
        _node: node,
    }))
}

fn stream_connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let node = node(link)?;
    let publisher = stream_service(&node, link)?
        .publisher_builder()
        .initial_max_slice_len(link.max_message)
        .max_loaned_samples(1)
        .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
        .create()
        .map_err(fail("create the publisher"))?;
    let wait = event_service(&node, link, "stream-attached")?
        .listener_builder()
        .create()
        .map_err(fail("create the listener"))?;
    Ok(Box::new(IoxEnd {
        publisher: Some(publisher),
        subscriber: None,
        notifier: None,
        listener: None,
        attach: Some(Attach::Await(wait)),
        _node: node,
    }))
}

/// The streaming ends' one-time handshake (see the module documentation).
enum Attach {
    /// The sender waits on this after its first sample.
    Await(Listener<Ipc>),
    /// The receiver notifies this when it got its first sample.
    Announce(Notifier<Ipc>),
}

/// How long the sender waits for the receiver to attach.
const ATTACH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The ports are dropped before the node (field order).
struct IoxEnd {
    publisher: Option<Publisher<Ipc, [u8], ()>>,
    subscriber: Option<Subscriber<Ipc, [u8], ()>>,
    notifier: Option<Notifier<Ipc>>,
    listener: Option<Listener<Ipc>>,
    /// Taken after its one use.
    attach: Option<Attach>,
    _node: Node<Ipc>,
}

fn no_port(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("this end has no {what}"),
    )
}

impl Endpoint for IoxEnd {
    fn send(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        let publisher = self
            .publisher
            .as_ref()
            .ok_or_else(|| no_port("publisher"))?;
        let mut sample = publisher
            .loan_slice_uninit(len)
            .map_err(fail("loan a sample"))?;
        let payload: &mut [MaybeUninit<u8>] = sample.payload_mut();
        // SAFETY: the slice lies in the publisher's data segment, shared memory the kernel
        // zero-filled when it was made and that holds only bytes written since: every
        // byte is initialised, `MaybeUninit` being the API's caution for payload types
        // that may not be. `fill` writes all `len` of them before `assume_init`.
        let bytes =
            unsafe { &mut *(std::ptr::from_mut::<[MaybeUninit<u8>]>(payload) as *mut [u8]) };
        fill(bytes);
        // SAFETY: every byte of the payload was written by `fill` above.
        let sample = unsafe { sample.assume_init() };
        sample.send().map_err(fail("send"))?;
        if let Some(notifier) = &self.notifier {
            notifier.notify().map_err(fail("notify"))?;
        }
        if let Some(Attach::Await(listener)) = self.attach.take() {
            let got = listener
                .timed_wait_one(ATTACH_TIMEOUT)
                .map_err(fail("wait for the receiver"))?;
            if got.is_none() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the receiver did not attach",
                ));
            }
        }
        Ok(())
    }

    fn recv(&mut self, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let subscriber = self
            .subscriber
            .as_ref()
            .ok_or_else(|| no_port("subscriber"))?;
        loop {
            if let Some(sample) = subscriber.receive().map_err(fail("receive"))? {
                let payload: &[u8] = sample.payload();
                if payload.len() != len {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a {}-byte sample where {len} bytes were due", payload.len()),
                    ));
                }
                read(payload);
                if let Some(Attach::Announce(notifier)) = self.attach.take() {
                    notifier.notify().map_err(fail("announce the attachment"))?;
                }
                return Ok(());
            }
            match &self.listener {
                // Takes every pending event: one may be left from a sample that was
                // received before its notification was waited for.
                Some(listener) => listener
                    .blocking_wait_all(|_| {})
                    .map_err(fail("wait for an event"))?,
                None => std::hint::spin_loop(),
            }
        }
    }
}
