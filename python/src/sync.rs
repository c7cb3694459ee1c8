//! `shmkit.Mutex`, `shmkit.Event` and `shmkit.Semaphore`: named sync objects in the one
//! namespace, their waits releasing the GIL and honouring Ctrl-C.

use crate::py_err;
use crate::wait::{blocking, timeout_arg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use shmkit::sync::{Acquire, EventReset};
use std::sync::Arc;

/// What every sync class keeps: the object (None once closed), its name as passed, and
/// whether a create opened it.
struct Held<T> {
    inner: Option<Arc<T>>,
    name: String,
    already_existed: bool,
    what: &'static str,
}

impl<T> Held<T> {
    /// What a create or open call `r` made of `name` (the class `what`), or its error.
    fn made(
        r: shmkit::Result<T>,
        name: &str,
        what: &'static str,
        already_existed: fn(&T) -> bool,
    ) -> PyResult<Held<T>> {
        let inner = r.map_err(|e| py_err(e, Some(name)))?;
        Ok(Held {
            already_existed: already_existed(&inner),
            inner: Some(Arc::new(inner)),
            name: name.to_owned(),
            what,
        })
    }

    fn get(&self) -> PyResult<Arc<T>> {
        self.inner.clone().ok_or_else(|| {
            PyValueError::new_err(format!(
                "operation on a closed {} ({})",
                self.what, self.name
            ))
        })
    }

    fn repr(&self) -> String {
        format!(
            "shmkit.{}({:?}{})",
            self.what,
            self.name,
            if self.inner.is_none() { ", closed" } else { "" }
        )
    }
}

/// The methods the three classes share.
macro_rules! common {
    ($ty:ident; $($items:tt)*) => {
        #[pymethods]
        impl $ty {
            $($items)*

            /// The name exactly as it was passed.
            #[getter]
            fn name(&self) -> &str {
                &self.held.name
            }

            /// Whether a create call found the object already there.
            #[getter]
            fn already_existed(&self) -> bool {
                self.held.already_existed
            }

            /// Whether close() was called.
            #[getter]
            fn closed(&self) -> bool {
                self.held.inner.is_none()
            }

            /// Closes this handle (the object lives while any process holds one).
            /// Idempotent. A wait in progress in another thread finishes first.
            fn close(&mut self) {
                self.held.inner = None;
            }

            fn __repr__(&self) -> String {
                self.held.repr()
            }
        }
    };
}

/// A named mutex: owned by one thread at a time, recursive for its owner. When its
/// owner ends without releasing it, the next acquisition reports it: `acquire()` sets
/// `abandoned` and warns with `shmkit.AbandonedMutexWarning`. A context manager:
/// `with mx:` acquires and releases.
#[pyclass(module = "shmkit", name = "Mutex")]
pub(crate) struct PyMutex {
    held: Held<shmkit::sync::Mutex>,
    abandoned: bool,
}

impl PyMutex {
    fn made(r: shmkit::Result<shmkit::sync::Mutex>, name: &str) -> PyResult<PyMutex> {
        Ok(PyMutex {
            held: Held::made(r, name, "Mutex", shmkit::sync::Mutex::already_existed)?,
            abandoned: false,
        })
    }
}

common! {
PyMutex;
    /// Creates the mutex `name` (not owned; owned by the calling thread with
    /// `initial_owner=True`), or opens it if it exists.
    #[staticmethod]
    #[pyo3(signature = (name, initial_owner = false))]
    fn create(py: Python<'_>, name: &str, initial_owner: bool) -> PyResult<PyMutex> {
        let r = py.allow_threads(|| {
            shmkit::sync::Mutex::options()
                .name(name)
                .create_mutex(initial_owner)
        });
        PyMutex::made(r, name)
    }

    /// Creates the mutex `name`; FileExistsError (shmkit.ExistsError) if the name is
    /// taken.
    #[staticmethod]
    #[pyo3(signature = (name, initial_owner = false))]
    fn create_new(py: Python<'_>, name: &str, initial_owner: bool) -> PyResult<PyMutex> {
        let r = py.allow_threads(|| {
            shmkit::sync::Mutex::options()
                .name(name)
                .exclusive(true)
                .create_mutex(initial_owner)
        });
        PyMutex::made(r, name)
    }

    /// Opens the existing mutex `name`; FileNotFoundError if there is none.
    #[staticmethod]
    fn open(py: Python<'_>, name: &str) -> PyResult<PyMutex> {
        let r = py.allow_threads(|| shmkit::sync::Mutex::open(name));
        PyMutex::made(r, name)
    }

    /// Waits until the calling thread owns the mutex, at most `timeout` seconds (None:
    /// for ever, 0: a poll). True when acquired, False when the timeout passed. The GIL
    /// is released while waiting; Ctrl-C raises KeyboardInterrupt.
    #[pyo3(signature = (timeout = None))]
    fn acquire(&mut self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let timeout = timeout_arg(timeout)?;
        let m = self.held.get()?;
        let got = blocking(py, timeout, Some(&self.held.name), |slice| {
            Ok(match m.acquire(Some(slice))? {
                Acquire::Acquired => Some(false),
                Acquire::Abandoned => Some(true),
                Acquire::TimedOut => None,
            })
        })?;
        let Some(abandoned) = got else {
            return Ok(false);
        };
        self.abandoned = abandoned;
        if abandoned {
            let warning = py.import("shmkit._errors")?.getattr("AbandonedMutexWarning")?;
            let text = format!(
                "the mutex {} was abandoned: its owner ended without releasing it, so what \
                 it guards may be inconsistent; this thread owns it now",
                self.held.name
            );
            PyErr::warn(py, &warning, &std::ffi::CString::new(text)?, 1)?;
        }
        Ok(true)
    }

    /// Releases one level of ownership; shmkit.Error (ERROR_NOT_OWNER, 288) when the
    /// calling thread does not own it.
    fn release(&self) -> PyResult<()> {
        self.held
            .get()?
            .release()
            .map_err(|e| py_err(e, Some(&self.held.name)))
    }

    /// Whether the last acquisition by this object found the mutex abandoned.
    #[getter]
    fn abandoned(&self) -> bool {
        self.abandoned
    }

    fn __enter__(mut slf: PyRefMut<'_, Self>) -> PyResult<PyRefMut<'_, Self>> {
        let py = slf.py();
        slf.acquire(py, None)?;
        Ok(slf)
    }

    fn __exit__(&self, _t: PyObject, _v: PyObject, _tb: PyObject) -> PyResult<()> {
        self.release()
    }
}

/// A named event: manual-reset (stays set until reset) or auto-reset (a wait that sees
/// it set resets it, so one waiter goes through per set).
#[pyclass(module = "shmkit", name = "Event")]
pub(crate) struct PyEvent {
    held: Held<shmkit::sync::Event>,
}

impl PyEvent {
    fn made(r: shmkit::Result<shmkit::sync::Event>, name: &str) -> PyResult<PyEvent> {
        Ok(PyEvent {
            held: Held::made(r, name, "Event", shmkit::sync::Event::already_existed)?,
        })
    }
}

fn reset_kind(manual: bool) -> EventReset {
    if manual {
        EventReset::Manual
    } else {
        EventReset::Auto
    }
}

common! {
PyEvent;
    /// Creates the event `name` (auto-reset unless `manual`, set if `initial`), or opens
    /// it if it exists (then it keeps its own kind and state).
    #[staticmethod]
    #[pyo3(signature = (name, manual = false, initial = false))]
    fn create(py: Python<'_>, name: &str, manual: bool, initial: bool) -> PyResult<PyEvent> {
        let r = py.allow_threads(|| shmkit::sync::Event::create(name, reset_kind(manual), initial));
        PyEvent::made(r, name)
    }

    /// Creates the event `name`; FileExistsError if the name is taken.
    #[staticmethod]
    #[pyo3(signature = (name, manual = false, initial = false))]
    fn create_new(py: Python<'_>, name: &str, manual: bool, initial: bool) -> PyResult<PyEvent> {
        let r = py.allow_threads(|| {
            shmkit::sync::Event::create_new(name, reset_kind(manual), initial)
        });
        PyEvent::made(r, name)
    }

    /// Opens the existing event `name`; FileNotFoundError if there is none.
    #[staticmethod]
    fn open(py: Python<'_>, name: &str) -> PyResult<PyEvent> {
        let r = py.allow_threads(|| shmkit::sync::Event::open(name));
        PyEvent::made(r, name)
    }

    /// Sets the event, waking its waiters (one, for an auto-reset event).
    fn set(&self) -> PyResult<()> {
        self.held
            .get()?
            .set()
            .map_err(|e| py_err(e, Some(&self.held.name)))
    }

    /// Resets the event.
    fn reset(&self) -> PyResult<()> {
        self.held
            .get()?
            .reset()
            .map_err(|e| py_err(e, Some(&self.held.name)))
    }

    /// Waits until the event is set, at most `timeout` seconds (None: for ever, 0: a
    /// poll); True when it was set, False when the timeout passed. The GIL is released
    /// while waiting; Ctrl-C raises KeyboardInterrupt.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let timeout = timeout_arg(timeout)?;
        let e = self.held.get()?;
        let got = blocking(py, timeout, Some(&self.held.name), |slice| {
            Ok(e.wait_timeout(slice)?.then_some(()))
        })?;
        Ok(got.is_some())
    }

    /// Whether the event is manual-reset.
    #[getter]
    fn manual(&self) -> PyResult<bool> {
        Ok(self.held.get()?.reset_kind() == EventReset::Manual)
    }
}

/// A named counting semaphore. A context manager: `with sem:` acquires one count and
/// gives it back.
#[pyclass(module = "shmkit", name = "Semaphore")]
pub(crate) struct PySemaphore {
    held: Held<shmkit::sync::Semaphore>,
}

impl PySemaphore {
    fn made(r: shmkit::Result<shmkit::sync::Semaphore>, name: &str) -> PyResult<PySemaphore> {
        Ok(PySemaphore {
            held: Held::made(
                r,
                name,
                "Semaphore",
                shmkit::sync::Semaphore::already_existed,
            )?,
        })
    }
}

common! {
PySemaphore;
    /// Creates the semaphore `name` with `initial` counts of at most `maximum`, or opens
    /// it if it exists (then it keeps its own counts). ValueError (shmkit.InvalidArgumentError)
    /// unless 0 <= initial <= maximum and maximum >= 1.
    #[staticmethod]
    fn create(py: Python<'_>, name: &str, initial: u32, maximum: u32) -> PyResult<PySemaphore> {
        let r = py.allow_threads(|| shmkit::sync::Semaphore::create(name, initial, maximum));
        PySemaphore::made(r, name)
    }

    /// Creates the semaphore `name`; FileExistsError if the name is taken.
    #[staticmethod]
    fn create_new(
        py: Python<'_>,
        name: &str,
        initial: u32,
        maximum: u32,
    ) -> PyResult<PySemaphore> {
        let r = py.allow_threads(|| shmkit::sync::Semaphore::create_new(name, initial, maximum));
        PySemaphore::made(r, name)
    }

    /// Opens the existing semaphore `name`; FileNotFoundError if there is none.
    #[staticmethod]
    fn open(py: Python<'_>, name: &str) -> PyResult<PySemaphore> {
        let r = py.allow_threads(|| shmkit::sync::Semaphore::open(name));
        PySemaphore::made(r, name)
    }

    /// Takes one count, waiting at most `timeout` seconds (None: for ever, 0: a poll);
    /// True when taken, False when the timeout passed. The GIL is released while
    /// waiting; Ctrl-C raises KeyboardInterrupt.
    #[pyo3(signature = (timeout = None))]
    fn acquire(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let timeout = timeout_arg(timeout)?;
        let s = self.held.get()?;
        let got = blocking(py, timeout, Some(&self.held.name), |slice| {
            Ok(s.acquire_timeout(slice)?.then_some(()))
        })?;
        Ok(got.is_some())
    }

    /// Gives back `count` counts and returns the count before; shmkit.Error
    /// (ERROR_TOO_MANY_POSTS, 298) past the maximum, and then nothing changes.
    #[pyo3(signature = (count = 1))]
    fn release(&self, count: u32) -> PyResult<u32> {
        self.held
            .get()?
            .release(count)
            .map_err(|e| py_err(e, Some(&self.held.name)))
    }

    /// The maximum count.
    #[getter]
    fn maximum(&self) -> PyResult<u32> {
        Ok(self.held.get()?.max())
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyResult<PyRef<'_, Self>> {
        slf.acquire(slf.py(), None)?;
        Ok(slf)
    }

    fn __exit__(&self, _t: PyObject, _v: PyObject, _tb: PyObject) -> PyResult<()> {
        self.release(1).map(|_| ())
    }
}
