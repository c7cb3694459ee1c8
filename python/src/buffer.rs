//! `shmkit.View`: mapped memory exported through the buffer protocol, zero-copy.
//!
//! PyO3's `__getbuffer__` needs the stable ABI of Python 3.11, where `Py_buffer` joined it;
//! this package targets 3.9. The buffer slots themselves work in `PyType_FromSpec` since
//! 3.9 and `Py_buffer`'s layout has not changed since 3.3 (3.11 froze it), so the type is
//! made here by hand: a heap type with `bf_getbuffer`/`bf_releasebuffer`, a length and a
//! `close()` method.
//!
//! Lifetime: every exported buffer (a memoryview, its slices, a numpy array) holds a
//! reference to the View object, so the memory stays mapped while any of them lives.
//! `close()` unmaps at once, and so refuses with BufferError while exports exist, as
//! CPython's `mmap.close()` does.

use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyType;
use std::ffi::{c_char, c_int, c_void};
use std::ptr;

/// CPython's `Py_buffer` (Include/pybuffer.h), unchanged since 3.3.
#[repr(C)]
struct PyBufferView {
    buf: *mut c_void,
    obj: *mut ffi::PyObject,
    len: ffi::Py_ssize_t,
    itemsize: ffi::Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut ffi::Py_ssize_t,
    strides: *mut ffi::Py_ssize_t,
    suboffsets: *mut ffi::Py_ssize_t,
    internal: *mut c_void,
}

const PYBUF_WRITABLE: c_int = 0x0001;
const PYBUF_FORMAT: c_int = 0x0004;
const PYBUF_ND: c_int = 0x0008;
const PYBUF_STRIDES: c_int = 0x0010 | PYBUF_ND;
const PY_BF_RELEASEBUFFER: c_int = 2;

/// What keeps the memory mapped (a `shmkit::View`, for instance).
pub(crate) type Owner = Box<dyn Send + Sync>;

/// The object's layout: a Python object header, then the exported range.
#[repr(C)]
struct RawView {
    ob_base: ffi::PyObject,
    ptr: *mut u8,
    len: ffi::Py_ssize_t,
    readonly: c_int,
    exports: ffi::Py_ssize_t,
    /// `Box<Owner>` turned into a pointer; null once closed (or never opened).
    owner: *mut Owner,
}

static VIEW_TYPE: GILOnceCell<Py<PyType>> = GILOnceCell::new();

const FORMAT_B: &[u8] = b"B\0";

unsafe extern "C" fn getbuffer(
    slf: *mut ffi::PyObject,
    view: *mut PyBufferView,
    flags: c_int,
) -> c_int {
    // SAFETY: CPython calls this slot with the GIL held and `slf` an instance of the
    // type, whose layout is `RawView`; `view` is null or points to a Py_buffer to fill.
    unsafe {
        let raw = slf.cast::<RawView>();
        if view.is_null() {
            ffi::PyErr_SetString(ffi::PyExc_BufferError, c"no Py_buffer to fill".as_ptr());
            return -1;
        }
        if (*raw).owner.is_null() {
            ffi::PyErr_SetString(
                ffi::PyExc_ValueError,
                c"operation on a closed shmkit view".as_ptr(),
            );
            return -1;
        }
        if flags & PYBUF_WRITABLE != 0 && (*raw).readonly != 0 {
            ffi::PyErr_SetString(ffi::PyExc_BufferError, c"the view is read-only".as_ptr());
            return -1;
        }
        ffi::Py_IncRef(slf);
        let v = &mut *view;
        v.buf = (*raw).ptr.cast();
        v.obj = slf;
        v.len = (*raw).len;
        v.itemsize = 1;
        v.readonly = (*raw).readonly;
        v.ndim = 1;
        v.format = if flags & PYBUF_FORMAT != 0 {
            FORMAT_B.as_ptr().cast_mut().cast()
        } else {
            ptr::null_mut()
        };
        v.shape = if flags & PYBUF_ND != 0 {
            &mut v.len
        } else {
            ptr::null_mut()
        };
        v.strides = if flags & PYBUF_STRIDES == PYBUF_STRIDES {
            &mut v.itemsize
        } else {
            ptr::null_mut()
        };
        v.suboffsets = ptr::null_mut();
        v.internal = ptr::null_mut();
        (*raw).exports += 1;
        0
    }
}

unsafe extern "C" fn releasebuffer(slf: *mut ffi::PyObject, _view: *mut PyBufferView) {
    // SAFETY: called with the GIL held for a buffer `getbuffer` filled; the caller then
    // drops the reference `getbuffer` took, so `slf` is still alive here.
    unsafe { (*slf.cast::<RawView>()).exports -= 1 };
}

unsafe extern "C" fn length(slf: *mut ffi::PyObject) -> ffi::Py_ssize_t {
    // SAFETY: called with the GIL held on an instance of the type.
    unsafe { (*slf.cast::<RawView>()).len }
}

unsafe extern "C" fn dealloc(slf: *mut ffi::PyObject) {
    // SAFETY: the last reference is gone (so no export remains: each holds one); the
    // object was allocated by the type's tp_alloc and is freed by its tp_free. Instances
    // of heap types own a reference to their type, dropped last.
    unsafe {
        let raw = slf.cast::<RawView>();
        if !(*raw).owner.is_null() {
            drop(Box::from_raw((*raw).owner));
        }
        let tp = ffi::Py_TYPE(slf);
        let free: ffi::freefunc = std::mem::transmute(ffi::PyType_GetSlot(tp, ffi::Py_tp_free));
        free(slf.cast());
        ffi::Py_DecRef(tp.cast());
    }
}

unsafe extern "C" fn close(
    slf: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: a METH_NOARGS method: the GIL is held and `slf` is an instance.
    unsafe {
        let raw = slf.cast::<RawView>();
        if (*raw).exports > 0 {
            let msg = format!(
                "cannot close a view while {} exported buffer(s) (memoryviews, arrays) use it\0",
                (*raw).exports
            );
            ffi::PyErr_SetString(ffi::PyExc_BufferError, msg.as_ptr().cast());
            return ptr::null_mut();
        }
        if !(*raw).owner.is_null() {
            let owner = Box::from_raw((*raw).owner);
            (*raw).owner = ptr::null_mut();
            (*raw).ptr = ptr::null_mut();
            (*raw).len = 0;
            drop(owner);
        }
        ffi::Py_IncRef(ffi::Py_None());
        ffi::Py_None()
    }
}

unsafe extern "C" fn closed(
    slf: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: a METH_NOARGS method: the GIL is held and `slf` is an instance.
    unsafe { ffi::PyBool_FromLong((*slf.cast::<RawView>()).owner.is_null() as _) }
}

unsafe extern "C" fn enter(
    slf: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: a METH_NOARGS method: the GIL is held and `slf` is an instance.
    unsafe {
        ffi::Py_IncRef(slf);
        slf
    }
}

unsafe extern "C" fn exit(
    slf: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: a METH_VARARGS method: the GIL is held and `slf` is an instance; `close`
    // ignores its argument.
    unsafe { close(slf, ptr::null_mut()) }
}

/// The two faces of the type: a view of a mapping, and a received message.
#[derive(Clone, Copy)]
pub(crate) enum Face {
    View,
    Message,
}

static MESSAGE_TYPE: GILOnceCell<Py<PyType>> = GILOnceCell::new();

fn method(
    name: &'static std::ffi::CStr,
    meth: ffi::PyCFunction,
    flags: c_int,
    doc: &'static std::ffi::CStr,
) -> ffi::PyMethodDef {
    ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: meth },
        ml_flags: flags,
        ml_doc: doc.as_ptr(),
    }
}

fn face_type(py: Python<'_>, face: Face) -> PyResult<&Py<PyType>> {
    let (cell, name, doc, close_name, close_doc) = match face {
        Face::View => (
            &VIEW_TYPE,
            c"shmkit.View",
            c"A mapped view of a shmkit object: use it through the buffer protocol \
              (memoryview(view), numpy.frombuffer(view)), without copies. A context manager \
              that closes it.",
            c"close",
            c"close()\n--\n\nUnmaps the view now. Idempotent. BufferError while \
              memoryviews or arrays over it exist.",
        ),
        Face::Message => (
            &MESSAGE_TYPE,
            c"shmkit.Message",
            c"A received message, read in place in the channel's ring: use it through the \
              read-only buffer protocol (bytes(msg), memoryview(msg), \
              numpy.frombuffer(msg)), without copies. Its place in the ring is given back \
              when it is released (release(), the end of a with block, or garbage \
              collection); until then the senders never write over it.",
            c"release",
            c"release()\n--\n\nGives the message's place back to the senders now. \
              Idempotent. BufferError while memoryviews or arrays over it exist.",
        ),
    };
    cell.get_or_try_init(py, || {
        let methods = Box::leak(Box::new([
            method(close_name, close, ffi::METH_NOARGS, close_doc),
            method(
                c"_closed",
                closed,
                ffi::METH_NOARGS,
                c"Whether it is closed.",
            ),
            method(c"__enter__", enter, ffi::METH_NOARGS, c"Returns itself."),
            method(
                c"__exit__",
                exit,
                ffi::METH_VARARGS,
                c"Closes it (releases a message).",
            ),
            ffi::PyMethodDef::zeroed(),
        ]));
        let slots = Box::leak(Box::new([
            ffi::PyType_Slot {
                slot: ffi::Py_bf_getbuffer,
                pfunc: getbuffer as *mut c_void,
            },
            ffi::PyType_Slot {
                slot: PY_BF_RELEASEBUFFER,
                pfunc: releasebuffer as *mut c_void,
            },
            ffi::PyType_Slot {
                slot: ffi::Py_mp_length,
                pfunc: length as *mut c_void,
            },
            ffi::PyType_Slot {
                slot: ffi::Py_tp_dealloc,
                pfunc: dealloc as *mut c_void,
            },
            ffi::PyType_Slot {
                slot: ffi::Py_tp_methods,
                pfunc: methods.as_mut_ptr().cast(),
            },
            ffi::PyType_Slot {
                slot: ffi::Py_tp_doc,
                pfunc: doc.as_ptr().cast_mut().cast(),
            },
            ffi::PyType_Slot {
                slot: 0,
                pfunc: ptr::null_mut(),
            },
        ]));
        let spec = Box::leak(Box::new(ffi::PyType_Spec {
            name: name.as_ptr(),
            basicsize: std::mem::size_of::<RawView>() as c_int,
            itemsize: 0,
            flags: ffi::Py_TPFLAGS_DEFAULT as _,
            slots: slots.as_mut_ptr(),
        }));
        // SAFETY: the spec, its slots and methods are leaked, so they live as long as the
        // type; the GIL is held.
        let tp = unsafe { ffi::PyType_FromSpec(spec) };
        // SAFETY: a new reference or null with an exception set.
        let tp = unsafe { Bound::from_owned_ptr_or_err(py, tp)? };
        Ok(tp.downcast_into::<PyType>()?.unbind())
    })
}

/// The View and Message types, to add to the module.
pub(crate) fn add_types(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("View", face_type(m.py(), Face::View)?.bind(m.py()))?;
    m.add("Message", face_type(m.py(), Face::Message)?.bind(m.py()))
}

/// A new View over `len` bytes at `ptr`, which stay valid while `owner` lives.
///
/// # Safety
/// `ptr..ptr + len` must stay mapped (and writable unless `readonly`) until `owner` drops.
pub(crate) unsafe fn new_view(
    py: Python<'_>,
    face: Face,
    ptr: *mut u8,
    len: usize,
    readonly: bool,
    owner: Owner,
) -> PyResult<PyObject> {
    let len =
        ffi::Py_ssize_t::try_from(len).map_err(|_| PyValueError::new_err("view too large"))?;
    let tp = face_type(py, face)?.bind(py);
    // SAFETY: allocating an instance of a heap type we made; zero-filled on success.
    let obj = unsafe { ffi::PyType_GenericAlloc(tp.as_ptr().cast(), 0) };
    // SAFETY: a new reference or null with an exception set.
    let obj = unsafe { Bound::from_owned_ptr_or_err(py, obj)? };
    let raw = obj.as_ptr().cast::<RawView>();
    // SAFETY: `obj` is a fresh, not yet shared instance with the RawView layout.
    unsafe {
        (*raw).ptr = ptr;
        (*raw).len = len;
        (*raw).readonly = readonly as c_int;
        (*raw).exports = 0;
        (*raw).owner = Box::into_raw(Box::new(owner));
    }
    Ok(obj.unbind())
}

// The consumer side of the buffer protocol: part of the stable ABI only from 3.11, but
// exported by every CPython 3 (Include/abstract.h) with this signature.
extern "C" {
    fn PyObject_GetBuffer(obj: *mut ffi::PyObject, view: *mut PyBufferView, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut PyBufferView);
}

/// A bytes-like object's contiguous bytes, held (so neither moved nor freed) until drop.
pub(crate) struct Borrowed<'py> {
    view: Box<PyBufferView>,
    _py: Python<'py>,
}

impl<'py> Borrowed<'py> {
    /// The bytes of `obj`, which must export a C-contiguous buffer (bytes, bytearray, a
    /// memoryview, a numpy array...): TypeError otherwise, as `bytes(obj)` would say.
    pub(crate) fn of(obj: &Bound<'py, PyAny>) -> PyResult<Borrowed<'py>> {
        let mut view = Box::new(PyBufferView {
            buf: ptr::null_mut(),
            obj: ptr::null_mut(),
            len: 0,
            itemsize: 0,
            readonly: 0,
            ndim: 0,
            format: ptr::null_mut(),
            shape: ptr::null_mut(),
            strides: ptr::null_mut(),
            suboffsets: ptr::null_mut(),
            internal: ptr::null_mut(),
        });
        // PyBUF_SIMPLE: contiguous bytes, no format; an exporter that cannot give them
        // raises BufferError, and a non-exporter TypeError.
        // SAFETY: the GIL is held (`obj` is bound); `view` is a Py_buffer to fill.
        let rc = unsafe { PyObject_GetBuffer(obj.as_ptr(), &mut *view, 0) };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        Ok(Borrowed {
            view,
            _py: obj.py(),
        })
    }

    /// The bytes (valid while `self` lives).
    pub(crate) fn raw(&self) -> RawBytes {
        RawBytes {
            ptr: self.view.buf.cast_const().cast(),
            len: self.view.len.max(0) as usize,
        }
    }
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        // SAFETY: filled by a successful PyObject_GetBuffer and released once; the GIL is
        // held ('py lifetime).
        unsafe { PyBuffer_Release(&mut *self.view) }
    }
}

/// Bytes held by a [`Borrowed`], to read while the GIL is released.
#[derive(Clone, Copy)]
pub(crate) struct RawBytes {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the exporter keeps the bytes in place until the Borrowed is released, which
// happens with the GIL held, after the GIL-free part that uses them is over.
unsafe impl Send for RawBytes {}

impl RawBytes {
    /// The bytes.
    ///
    /// # Safety
    /// The [`Borrowed`] they came from must still live.
    pub(crate) unsafe fn get<'a>(self) -> &'a [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the caller keeps the Borrowed alive; its buffer is `len` bytes at `ptr`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}
