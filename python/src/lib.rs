//! The Rust half of the Python package `shmkit`: the library's types as Python classes.
//! `shmkit/__init__.py` re-exports them and adds `SharedMemory` and the error classes.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use shmkit::{Access, ErrorKind};

mod buffer;
mod channel;
mod sync;
mod wait;

/// A Python exception for a library error: an instance of the `shmkit.Error` subclass that
/// matches its kind (made by `shmkit._errors`), carrying `winerror`.
pub(crate) fn py_err(err: shmkit::Error, name: Option<&str>) -> PyErr {
    Python::with_gil(|py| {
        let made = (|| -> PyResult<PyErr> {
            let make = py.import("shmkit._errors")?.getattr("_from_library")?;
            let kind = format!("{:?}", err.kind());
            let exc = make.call1((kind, err.win32_code(), err.message(), name))?;
            Ok(PyErr::from_value(exc))
        })();
        made.unwrap_or_else(|e| e)
    })
}

fn parse_access(access: &str) -> PyResult<Access> {
    match access {
        "r" => Ok(Access::Read),
        "rw" => Ok(Access::ReadWrite),
        "cow" => Ok(Access::CopyOnWrite),
        other => Err(PyValueError::new_err(format!(
            "access must be \"r\", \"rw\" or \"cow\", not {other:?}"
        ))),
    }
}

/// A handle to a named (or unnamed) mapping object. Its name lives while any process
/// holds a handle; views keep the memory, not the name.
#[pyclass(module = "shmkit", name = "Mapping")]
struct PyMapping {
    inner: Option<shmkit::Mapping>,
    /// Kept after close, for `name` and error messages.
    name: Option<String>,
    size: u64,
    already_existed: bool,
}

impl PyMapping {
    fn wrap(m: shmkit::Mapping) -> PyMapping {
        PyMapping {
            name: m.name().map(str::to_owned),
            size: m.size(),
            already_existed: m.already_existed(),
            inner: Some(m),
        }
    }

    fn handle(&self) -> PyResult<&shmkit::Mapping> {
        self.inner.as_ref().ok_or_else(|| {
            PyValueError::new_err(format!(
                "operation on a closed mapping ({})",
                self.name.as_deref().unwrap_or("unnamed")
            ))
        })
    }
}

#[pymethods]
impl PyMapping {
    /// Creates the object `name` of `size` bytes, or opens it if it exists (then it keeps
    /// its own size and `already_existed` is True).
    #[staticmethod]
    fn create(py: Python<'_>, name: &str, size: u64) -> PyResult<PyMapping> {
        py.allow_threads(|| shmkit::Mapping::create(name, size))
            .map(PyMapping::wrap)
            .map_err(|e| py_err(e, Some(name)))
    }

    /// Creates the object `name`; FileExistsError (shmkit.ExistsError) if it exists.
    #[staticmethod]
    fn create_new(py: Python<'_>, name: &str, size: u64) -> PyResult<PyMapping> {
        py.allow_threads(|| shmkit::Mapping::create_new(name, size))
            .map(PyMapping::wrap)
            .map_err(|e| py_err(e, Some(name)))
    }

    /// Opens the existing object `name`; FileNotFoundError (shmkit.NotFoundError) if
    /// there is none. `access` ("r" or "rw") bounds the views this handle can map.
    #[staticmethod]
    #[pyo3(signature = (name, access = "rw"))]
    fn open(py: Python<'_>, name: &str, access: &str) -> PyResult<PyMapping> {
        let access = parse_access(access)?;
        py.allow_threads(|| shmkit::Mapping::open(name, access))
            .map(PyMapping::wrap)
            .map_err(|e| py_err(e, Some(name)))
    }

    /// Creates an unnamed object of `size` bytes.
    #[staticmethod]
    fn anonymous(py: Python<'_>, size: u64) -> PyResult<PyMapping> {
        py.allow_threads(|| shmkit::Mapping::anonymous(size))
            .map(PyMapping::wrap)
            .map_err(|e| py_err(e, None))
    }

    /// The name exactly as it was passed (None for an unnamed object).
    #[getter]
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The object's size in bytes (its own size when it already existed).
    #[getter]
    fn size(&self) -> u64 {
        self.size
    }

    /// Whether a create call found the object already there.
    #[getter]
    fn already_existed(&self) -> bool {
        self.already_existed
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// Maps `length` bytes at `offset` (a multiple of 64 KiB; length 0: to the end) as a
    /// View, with `access` "r", "rw" or "cow" (copy-on-write).
    #[pyo3(signature = (offset = 0, length = 0, access = "rw"))]
    fn map(&self, py: Python<'_>, offset: u64, length: usize, access: &str) -> PyResult<PyObject> {
        let access = parse_access(access)?;
        let view = self
            .handle()?
            .map_range(offset, length, access)
            .map_err(|e| py_err(e, self.name.as_deref()))?;
        let (ptr, len) = (view.as_mut_ptr(), view.len());
        // SAFETY: the range is the view's own, mapped until the View drops; the owner
        // passed is that View. Read-only views are exported read-only.
        unsafe {
            buffer::new_view(
                py,
                buffer::Face::View,
                ptr,
                len,
                access == Access::Read,
                Box::new(view),
            )
        }
    }

    /// Closes the handle; views stay valid. Idempotent.
    fn close(&mut self) {
        self.inner = None;
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __exit__(&mut self, _t: PyObject, _v: PyObject, _tb: PyObject) {
        self.close();
    }

    fn __repr__(&self) -> String {
        format!(
            "shmkit.Mapping({:?}, size={}{})",
            self.name.as_deref().unwrap_or("<unnamed>"),
            self.size,
            if self.inner.is_none() { ", closed" } else { "" }
        )
    }
}

/// The names of the error kinds, for `shmkit._errors` to check its table against.
#[pyfunction]
fn _error_kinds() -> Vec<String> {
    ErrorKind::ALL.iter().map(|k| format!("{k:?}")).collect()
}

#[pymodule]
fn _shmkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    buffer::add_types(m)?;
    m.add_class::<PyMapping>()?;
    m.add_class::<sync::PyMutex>()?;
    m.add_class::<sync::PyEvent>()?;
    m.add_class::<sync::PySemaphore>()?;
    m.add_class::<channel::PySender>()?;
    m.add_class::<channel::PyReceiver>()?;
    m.add_class::<channel::PyLoan>()?;
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    m.add("GRANULARITY", shmkit::GRANULARITY)?;
    Ok(())
}
