//! `shmkit.Sender`, `shmkit.Receiver`, `shmkit.Loan` and `shmkit.Message`: the zero-copy
//! channel from Python.
//!
//! A received message is a `shmkit.Message` (the buffer type of `buffer.rs`) read where it
//! lies in the ring. Python code keeps messages past the next `recv()` (a loop that
//! rebinds `msg` and an array made from it receives the next one first), so the
//! receiver holds messages (`Receiver::recv_held`): several may be alive at once, and
//! each gives its place back when released or collected, in any order; the ring is given
//! back up to the oldest still alive.
//!
//! Ends and the messages' owners share the end through an `Arc`, so the mapping stays
//! while any message or loan view uses it, whatever the order of closes.

use crate::buffer::{self, Borrowed, Face};
use crate::py_err;
use crate::wait::{blocking, timeout_arg};
use pyo3::exceptions::{PyBufferError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyAny;
use shmkit::channel::{ChannelOptions, HeldLoan, HeldMessage, Wait};
use shmkit::ErrorKind;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn wait_arg(wait: &str) -> PyResult<Wait> {
    match wait {
        "busy" => Ok(Wait::Busy),
        "block" => Ok(Wait::Block),
        "adaptive" => Ok(Wait::Adaptive),
        other => Err(PyValueError::new_err(format!(
            "wait must be \"busy\", \"block\" or \"adaptive\", not {other:?}"
        ))),
    }
}

/// The options of a create call, from its keyword arguments.
#[allow(clippy::too_many_arguments)]
fn options<'a>(
    name: &'a str,
    capacity: usize,
    max_message: Option<usize>,
    producers: usize,
    wait: &str,
    spin: Option<f64>,
    permissions: Option<u32>,
) -> PyResult<ChannelOptions<'a>> {
    let mut o = ChannelOptions::default();
    o.name(name)
        .capacity(capacity)
        .producers(producers)
        .wait(wait_arg(wait)?);
    if let Some(m) = max_message {
        o.max_message(m);
    }
    if let Some(s) = spin {
        let spin = timeout_arg(Some(s))?.unwrap_or(Duration::MAX);
        o.spin(spin);
    }
    if let Some(p) = permissions {
        o.permissions(p);
    }
    Ok(o)
}

/// A lock that a panic elsewhere never poisons for good (the state it guards is the
/// library's end, which stays consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The methods both ends share, then `$items`, in one `#[pymethods]` block. Each end has
/// the fields `shared` (None once closed), `name`, `already_existed`, `capacity` and
/// `max_message`, and its own `close()` among `$items`.
macro_rules! end_methods {
    ($ty:ident, $class:literal; $($items:tt)*) => {
        #[pymethods]
        impl $ty {
            $($items)*

            /// The name exactly as it was passed.
            #[getter]
            fn name(&self) -> &str {
                &self.name
            }

            /// Whether a create call found the channel already there.
            #[getter]
            fn already_existed(&self) -> bool {
                self.already_existed
            }

            /// The ring's size in bytes.
            #[getter]
            fn capacity(&self) -> usize {
                self.capacity
            }

            /// The largest message in bytes.
            #[getter]
            fn max_message(&self) -> usize {
                self.max_message
            }

            /// Whether close() was called.
            #[getter]
            fn closed(&self) -> bool {
                self.shared.is_none()
            }

            fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
                slf
            }

            fn __exit__(&mut self, _t: PyObject, _v: PyObject, _tb: PyObject) {
                self.close();
            }

            fn __repr__(&self) -> String {
                format!(
                    "shmkit.{}({:?}{})",
                    $class,
                    self.name,
                    if self.shared.is_none() { ", closed" } else { "" }
                )
            }
        }
    };
}

// ---- the receiver ----------------------------------------------------------------------

/// The receive end and what is held of it.
struct RxShared {
    rx: Mutex<shmkit::channel::Receiver>,
    /// The positions of the messages alive in Python.
    held: Mutex<BTreeSet<u64>>,
    /// A message was released while the end was busy (a receive in another thread):
    /// the next receive gives its place back.
    behind: AtomicBool,
}

impl RxShared {
    /// Gives back the ring up to the oldest message still alive. Called with `rx` locked.
    fn give_back(&self, rx: &mut shmkit::channel::Receiver) {
        self.behind.store(false, Ordering::Relaxed);
        let keep = lock(&self.held).first().copied();
        rx.release_held(keep);
    }
}

/// What keeps a Message's bytes: its place in the ring, given back on drop.
struct MessageOwner {
    shared: Arc<RxShared>,
    position: u64,
}

impl Drop for MessageOwner {
    fn drop(&mut self) {
        lock(&self.shared.held).remove(&self.position);
        match self.shared.rx.try_lock() {
            Ok(mut rx) => self.shared.give_back(&mut rx),
            Err(std::sync::TryLockError::Poisoned(e)) => self.shared.give_back(&mut e.into_inner()),
            // A receive is under way in another thread: it gives the place back.
            Err(std::sync::TryLockError::WouldBlock) => {
                self.shared.behind.store(true, Ordering::Relaxed)
            }
        }
    }
}

/// The receive end of a channel: one per channel. `recv()` returns zero-copy Messages.
#[pyclass(module = "shmkit", name = "Receiver")]
pub(crate) struct PyReceiver {
    shared: Option<Arc<RxShared>>,
    name: String,
    already_existed: bool,
    capacity: usize,
    max_message: usize,
}

impl PyReceiver {
    fn made(r: shmkit::Result<shmkit::channel::Receiver>, name: &str) -> PyResult<PyReceiver> {
        let rx = r.map_err(|e| py_err(e, Some(name)))?;
        Ok(PyReceiver {
            name: name.to_owned(),
            already_existed: rx.already_existed(),
            capacity: rx.capacity(),
            max_message: rx.max_message(),
            shared: Some(Arc::new(RxShared {
                rx: Mutex::new(rx),
                held: Mutex::new(BTreeSet::new()),
                behind: AtomicBool::new(false),
            })),
        })
    }

    fn shared(&self) -> PyResult<Arc<RxShared>> {
        self.shared.clone().ok_or_else(|| {
            PyValueError::new_err(format!("operation on a closed Receiver ({})", self.name))
        })
    }

    fn receive(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Option<PyObject>> {
        let shared = self.shared()?;
        let got = blocking(py, timeout, Some(&self.name), |slice| {
            let mut rx = lock(&shared.rx);
            if shared.behind.load(Ordering::Relaxed) {
                shared.give_back(&mut rx);
            }
            let Some(m) = rx.recv_held(Some(slice))? else {
                return Ok(None);
            };
            lock(&shared.held).insert(m.position());
            Ok(Some((m, Ptr(rx.held_bytes(&m)))))
        })?;
        let Some((m, ptr)): Option<(HeldMessage, *const u8)> = got.map(|(m, p)| (m, p.0)) else {
            return Ok(None);
        };
        let owner = MessageOwner {
            shared,
            position: m.position(),
        };
        // SAFETY: the message's bytes stay in place (the senders never write a held
        // place) and mapped (the owner keeps the end) until the owner drops; they are
        // exported read-only.
        let view = unsafe {
            buffer::new_view(
                py,
                Face::Message,
                ptr.cast_mut(),
                m.len(),
                true,
                Box::new(owner),
            )
        }?;
        Ok(Some(view))
    }
}

end_methods! {
PyReceiver, "Receiver";
    /// Creates the channel `name` with a ring of `capacity` bytes (rounded up to whole
    /// pages), or opens it, and attaches the receiver. `max_message`: the largest message
    /// (default: what a quarter of the ring holds); `producers`: how many senders may be
    /// attached at once; `wait`: "adaptive" (spin for `spin` seconds, then sleep), "busy"
    /// or "block"; `permissions`: the object's mode bits.
    #[staticmethod]
    #[pyo3(signature = (name, capacity = shmkit::channel::DEFAULT_CAPACITY, *, max_message = None,
        producers = 1, wait = "adaptive", spin = None, permissions = None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        py: Python<'_>,
        name: &str,
        capacity: usize,
        max_message: Option<usize>,
        producers: usize,
        wait: &str,
        spin: Option<f64>,
        permissions: Option<u32>,
    ) -> PyResult<PyReceiver> {
        let o = options(
            name,
            capacity,
            max_message,
            producers,
            wait,
            spin,
            permissions,
        )?;
        let r = py.allow_threads(|| o.receiver());
        PyReceiver::made(r, name)
    }

    /// Opens the existing channel `name` and attaches the receiver; FileNotFoundError if
    /// there is none, shmkit.Error (ERROR_BUSY, 170) if a receiver is attached.
    #[staticmethod]
    fn open(py: Python<'_>, name: &str) -> PyResult<PyReceiver> {
        let r = py.allow_threads(|| shmkit::channel::Receiver::open(name));
        PyReceiver::made(r, name)
    }

    /// The next message, waiting at most `timeout` seconds (None: for ever, 0: a poll);
    /// None when the timeout passed. shmkit.DisconnectedError (a BrokenPipeError) when
    /// every sender is gone and nothing is left. The GIL is released while waiting;
    /// Ctrl-C raises KeyboardInterrupt.
    #[pyo3(signature = (timeout = None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyObject>> {
        let timeout = timeout_arg(timeout)?;
        self.receive(py, timeout)
    }

    /// The next message if there is one now, else None.
    fn try_recv(&self, py: Python<'_>) -> PyResult<Option<PyObject>> {
        self.receive(py, Some(Duration::ZERO))
    }

    /// Detaches this end. Messages still alive keep it attached until they are
    /// released. Idempotent.
    fn close(&mut self) {
        self.shared = None;
    }
}

/// A pointer that crosses the GIL-free part of a call (what it points to is kept by the
/// end the call holds).
struct Ptr<T>(T);
// SAFETY: only carried out of the closure that made it, to the thread that called it.
unsafe impl<T> Send for Ptr<T> {}

// ---- the sender ------------------------------------------------------------------------

/// A send end and whether one of its loans is open.
struct TxShared {
    tx: Mutex<shmkit::channel::Sender>,
    loaned: AtomicBool,
}

/// The send end of a channel.
#[pyclass(module = "shmkit", name = "Sender")]
pub(crate) struct PySender {
    shared: Option<Arc<TxShared>>,
    name: String,
    already_existed: bool,
    capacity: usize,
    max_message: usize,
}

impl PySender {
    fn made(r: shmkit::Result<shmkit::channel::Sender>, name: &str) -> PyResult<PySender> {
        let tx = r.map_err(|e| py_err(e, Some(name)))?;
        Ok(PySender {
            name: name.to_owned(),
            already_existed: tx.already_existed(),
            capacity: tx.capacity(),
            max_message: tx.max_message(),
            shared: Some(Arc::new(TxShared {
                tx: Mutex::new(tx),
                loaned: AtomicBool::new(false),
            })),
        })
    }

    /// The end, refusing while a loan of it is open (the loan owns the ring's next bytes).
    fn shared(&self) -> PyResult<Arc<TxShared>> {
        let shared = self.shared.clone().ok_or_else(|| {
            PyValueError::new_err(format!("operation on a closed Sender ({})", self.name))
        })?;
        if shared.loaned.load(Ordering::Acquire) {
            return Err(PyRuntimeError::new_err(format!(
                "a loan of this Sender ({}) is open: commit or abandon it first",
                self.name
            )));
        }
        Ok(shared)
    }

    /// Runs a send step until it succeeds, the timeout passes (then one last try, whose
    /// error is raised) or a signal handler raises.
    fn sending<T: Send>(
        &self,
        py: Python<'_>,
        shared: &TxShared,
        timeout: Option<Duration>,
        mut step: impl FnMut(&mut shmkit::channel::Sender, Duration) -> shmkit::Result<T> + Send,
    ) -> PyResult<T> {
        let got = blocking(py, timeout, Some(&self.name), |slice| {
            match step(&mut lock(&shared.tx), slice) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.kind() == ErrorKind::Full => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        match got {
            Some(v) => Ok(v),
            None => py
                .allow_threads(|| step(&mut lock(&shared.tx), Duration::ZERO))
                .map_err(|e| py_err(e, Some(&self.name))),
        }
    }
}

end_methods! {
PySender, "Sender";
    /// Creates the channel `name` (see Receiver.create for the arguments), or opens it,
    /// and attaches a sender.
    #[staticmethod]
    #[pyo3(signature = (name, capacity = shmkit::channel::DEFAULT_CAPACITY, *, max_message = None,
        producers = 1, wait = "adaptive", spin = None, permissions = None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        py: Python<'_>,
        name: &str,
        capacity: usize,
        max_message: Option<usize>,
        producers: usize,
        wait: &str,
        spin: Option<f64>,
        permissions: Option<u32>,
    ) -> PyResult<PySender> {
        let o = options(
            name,
            capacity,
            max_message,
            producers,
            wait,
            spin,
            permissions,
        )?;
        let r = py.allow_threads(|| o.sender());
        PySender::made(r, name)
    }

    /// Opens the existing channel `name` and attaches a sender; FileNotFoundError if
    /// there is none, shmkit.Error (ERROR_BUSY, 170) when every sender's place is taken.
    #[staticmethod]
    fn open(py: Python<'_>, name: &str) -> PyResult<PySender> {
        let r = py.allow_threads(|| shmkit::channel::Sender::open(name));
        PySender::made(r, name)
    }

    /// Another sender on the same channel (a channel made for several producers).
    fn try_clone(&self, py: Python<'_>) -> PyResult<PySender> {
        let shared = self.shared()?;
        let r = py.allow_threads(|| lock(&shared.tx).try_clone());
        PySender::made(r, &self.name)
    }

    /// Sends the bytes of `data` (any C-contiguous bytes-like object: bytes, bytearray,
    /// memoryview, a numpy array), copied once into the ring, waiting at most `timeout`
    /// seconds while the ring is full (None: for ever); shmkit.FullError after it,
    /// shmkit.DisconnectedError when the receiver is gone, shmkit.InvalidArgumentError
    /// (winerror 223) for a message larger than max_message. The GIL is
    /// released while copying and waiting; Ctrl-C raises KeyboardInterrupt.
    #[pyo3(signature = (data, timeout = None))]
    fn send(&self, py: Python<'_>, data: &Bound<'_, PyAny>, timeout: Option<f64>) -> PyResult<()> {
        let timeout = timeout_arg(timeout)?;
        let held = Borrowed::of(data)?;
        let bytes = held.raw();
        let shared = self.shared()?;
        self.sending(py, &shared, timeout, move |tx, t| {
            // SAFETY: `held` lives until this call returns.
            tx.send_timeout(unsafe { bytes.get() }, t)
        })
    }

    /// Sends `data` if there is room now; shmkit.FullError otherwise.
    fn try_send(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        self.send(py, data, Some(0.0))
    }

    /// Lends `n` bytes of the ring to write a message in place, waiting at most `timeout`
    /// seconds for room. Use it as a context manager: `with tx.loan(n) as buf:` gives a
    /// writable memoryview, sent when the block ends without an exception and abandoned
    /// (never received) when it raises. `Loan.truncate(k)` shortens the message.
    #[pyo3(signature = (n, timeout = None))]
    fn loan(&self, py: Python<'_>, n: usize, timeout: Option<f64>) -> PyResult<PyLoan> {
        let timeout = timeout_arg(timeout)?;
        let shared = self.shared()?;
        let (loan, ptr) = self
            .sending(py, &shared, timeout, |tx, t| {
                let l = tx.loan_held(n, Some(t))?;
                let p = tx.held_loan_bytes(&l);
                Ok((l, Ptr(p)))
            })
            .map(|(l, p)| (l, p.0))?;
        shared.loaned.store(true, Ordering::Release);
        Ok(PyLoan {
            shared,
            loan: Some(loan),
            ptr,
            len: n,
            view: None,
            memoryview: None,
            name: self.name.clone(),
        })
    }

    /// Detaches this end (an open loan keeps it until the loan ends). Idempotent.
    fn close(&mut self) {
        self.shared = None;
    }
}

/// What keeps a loan view's bytes mapped: the send end.
struct LoanOwner(#[allow(dead_code)] Arc<TxShared>);

/// Ring bytes lent by `Sender.loan(n)`. A context manager giving a writable memoryview;
/// or call `view()`, then `commit()` or `abandon()`. Tied to the thread that made it.
#[pyclass(module = "shmkit", name = "Loan", unsendable)]
pub(crate) struct PyLoan {
    shared: Arc<TxShared>,
    /// None once committed or abandoned.
    loan: Option<HeldLoan>,
    ptr: *mut u8,
    len: usize,
    /// The View handed out, closed when the loan ends.
    view: Option<PyObject>,
    /// The memoryview `__enter__` handed out, released when the loan ends.
    memoryview: Option<PyObject>,
    name: String,
}

impl PyLoan {
    /// Ends the loan: sends it, or abandons it. The view handed out is closed first; when
    /// it cannot be (arrays or memoryviews made from it are still alive), the loan is
    /// abandoned and BufferError raised, since those could still write into a message
    /// that was sent.
    fn end(&mut self, py: Python<'_>, send: bool) -> PyResult<()> {
        let Some(loan) = self.loan.take() else {
            return Err(PyValueError::new_err(format!(
                "the loan of {} has already ended",
                self.name
            )));
        };
        let released = match self.memoryview.take() {
            Some(mv) => mv.call_method0(py, "release").map(|_| ()),
            None => Ok(()),
        };
        let closed = released.and_then(|()| match self.view.take() {
            Some(v) => v.call_method0(py, "close").map(|_| ()),
            None => Ok(()),
        });
        let mut tx = lock(&self.shared.tx);
        let result = match closed {
            Ok(()) if send => {
                tx.commit_held(loan, self.len);
                Ok(())
            }
            Ok(()) => {
                tx.abandon_held(loan);
                Ok(())
            }
            Err(e) => {
                tx.abandon_held(loan);
                Err(if send {
                    PyBufferError::new_err(format!(
                        "the loan of {} was abandoned, not sent: memoryviews or arrays made \
                         from it are still alive ({})",
                        self.name,
                        e.value(py)
                    ))
                } else {
                    e
                })
            }
        };
        drop(tx);
        self.shared.loaned.store(false, Ordering::Release);
        result
    }
}

#[pymethods]
impl PyLoan {
    /// The loan's bytes as a writable shmkit.View (use memoryview(view) or
    /// numpy.frombuffer(view, dtype)); the same View each time.
    fn view(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        if self.loan.is_none() {
            return Err(PyValueError::new_err(format!(
                "the loan of {} has already ended",
                self.name
            )));
        }
        if let Some(v) = &self.view {
            return Ok(v.clone_ref(py));
        }
        let len = self.loan.as_ref().map_or(0, HeldLoan::len);
        // SAFETY: the loan's bytes are this sender's to write until it ends, and stay
        // mapped while the owner (the end) lives; the view is closed when the loan ends.
        let v = unsafe {
            buffer::new_view(
                py,
                Face::View,
                self.ptr,
                len,
                false,
                Box::new(LoanOwner(self.shared.clone())),
            )
        }?;
        self.view = Some(v.clone_ref(py));
        Ok(v)
    }

    /// Shortens the message to its first `n` bytes (a larger `n` does nothing).
    fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }

    /// Sends the message.
    fn commit(&mut self, py: Python<'_>) -> PyResult<()> {
        self.end(py, true)
    }

    /// Ends the loan without sending: the message never appears.
    fn abandon(&mut self, py: Python<'_>) -> PyResult<()> {
        self.end(py, false)
    }

    /// The message's length in bytes (after truncate).
    fn __len__(&self) -> usize {
        self.len
    }

    fn __enter__(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        let v = self.view(py)?;
        let mv = py
            .import("builtins")?
            .getattr("memoryview")?
            .call1((v.bind(py),))?
            .unbind();
        self.memoryview = Some(mv.clone_ref(py));
        Ok(mv)
    }

    fn __exit__(
        &mut self,
        py: Python<'_>,
        t: PyObject,
        _v: PyObject,
        _tb: PyObject,
    ) -> PyResult<()> {
        // Sent when the block ended normally, abandoned when it raised.
        self.end(py, t.is_none(py))
    }
}

impl Drop for PyLoan {
    fn drop(&mut self) {
        if let Some(loan) = self.loan.take() {
            lock(&self.shared.tx).abandon_held(loan);
            self.shared.loaned.store(false, Ordering::Release);
        }
    }
}
