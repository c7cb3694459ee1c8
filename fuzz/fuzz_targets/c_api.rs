//! The C API driven by a sequence of calls: made-up and closed handle values, flags,
//! sizes, offsets, NULL or valid pointers. No call may crash, and a failing call always
//! sets a last error. Waits are bounded (0 to 3 ms); every handle and view an input made
//! is closed at its end, so each input starts clean, in a private store (`SHMKIT_DIR`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use shmkit_win32::*;
use std::ffi::{c_void, CString};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

const INVALID: HANDLE = usize::MAX as HANDLE;
const FALSE: BOOL = 0;
const WAIT_FAILED: DWORD = u32::MAX;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum H {
    /// The i-th handle this input made (modulo their number).
    Made(u8),
    /// A handle this input made and then closed.
    Closed(u8),
    Raw(usize),
    Null,
    /// INVALID_HANDLE_VALUE: the current-process pseudo handle.
    Invalid,
    CurrentThread,
}

#[derive(Arbitrary, Debug, Clone)]
enum N {
    Null,
    Empty,
    /// One of a few names, bare or in a namespace, so that creates and opens meet.
    Fixed {
        ns: u8,
        k: u8,
    },
    Text(String),
    /// Narrow: bytes that may not be UTF-8; wide: units that may not be scalar values.
    Raw(Vec<i32>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum A {
    /// An address inside the i-th view this input mapped.
    View(u8, u32),
    Raw(usize),
    Null,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Size {
    /// Small enough to create for real.
    Small(u32),
    /// Beyond what the store could hold or the system represent: must fail cleanly.
    Huge(u32, u32),
}

#[derive(Arbitrary, Debug)]
enum Op {
    CreateMapping {
        wide: bool,
        file: Option<H>,
        sa: Option<bool>,
        protect: u32,
        size: Size,
        name: N,
    },
    OpenMapping {
        wide: bool,
        access: u32,
        inherit: bool,
        name: N,
    },
    Map {
        h: H,
        access: u32,
        offset: u64,
        len: usize,
        at: Option<A>,
    },
    Unmap(A),
    Flush(A, usize),
    Query {
        at: A,
        null_info: bool,
        short: bool,
    },
    CreateFile {
        access: u32,
        disposition: u32,
        delete_on_close: bool,
    },
    Close(H),
    Duplicate {
        from: H,
        source: H,
        to: H,
        null_target: bool,
        inherit: bool,
        options: u32,
    },
    WaitOne(H, u8),
    WaitMany {
        hs: Vec<H>,
        all: bool,
        ms: u8,
        count: Option<u32>,
        null: bool,
    },
    CreateMutex {
        wide: bool,
        owner: bool,
        name: N,
    },
    CreateEvent {
        wide: bool,
        manual: bool,
        set: bool,
        name: N,
    },
    CreateSemaphore {
        wide: bool,
        initial: i32,
        max: i32,
        name: N,
    },
    Open {
        wide: bool,
        kind: u8,
        inherit: bool,
        name: N,
    },
    ReleaseMutex(H),
    SetEvent(H),
    ResetEvent(H),
    ReleaseSemaphore {
        h: H,
        count: i32,
        null_previous: bool,
    },
}

/// The private store, made once: a fresh directory that `SHMKIT_DIR` names before any
/// call reaches the library.
fn store() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::var("SHMKIT_FUZZ_DIR").unwrap_or_else(|_| "/tmp".to_owned());
        let template = CString::new(format!("{base}/shmkit-fuzz.XXXXXX")).unwrap();
        let mut bytes = template.into_bytes_with_nul();
        // SAFETY: `bytes` is a writable NUL-terminated template, as mkdtemp needs.
        let made = unsafe { libc::mkdtemp(bytes.as_mut_ptr().cast()) };
        assert!(!made.is_null(), "mkdtemp failed");
        bytes.pop();
        let dir = String::from_utf8(bytes).unwrap();
        std::env::set_var("SHMKIT_DIR", &dir);
        dir
    })
}

#[derive(Default)]
struct State {
    handles: Vec<HANDLE>,
    closed: Vec<HANDLE>,
    views: Vec<(*mut c_void, usize)>,
}

impl State {
    fn handle(&self, h: H) -> HANDLE {
        match h {
            H::Made(i) if !self.handles.is_empty() => {
                self.handles[usize::from(i) % self.handles.len()]
            }
            H::Closed(i) if !self.closed.is_empty() => {
                self.closed[usize::from(i) % self.closed.len()]
            }
            H::Made(_) | H::Closed(_) => (0x40 + 4 * 100_000) as HANDLE,
            H::Raw(v) => v as HANDLE,
            H::Null => null_mut(),
            H::Invalid => INVALID,
            H::CurrentThread => (usize::MAX - 1) as HANDLE,
        }
    }

    fn addr(&self, a: A) -> *mut c_void {
        match a {
            A::View(i, off) if !self.views.is_empty() => {
                let (base, len) = self.views[usize::from(i) % self.views.len()];
                base.cast::<u8>()
                    .wrapping_add(off as usize % len.max(1))
                    .cast()
            }
            A::View(..) | A::Null => null_mut(),
            A::Raw(v) => v as *mut c_void,
        }
    }

    fn made(&mut self, h: HANDLE) {
        if !h.is_null() && h != INVALID {
            self.handles.push(h);
        }
    }
}

/// A NUL-terminated narrow name (None: NULL) and its wide twin.
fn names(n: &N) -> Option<(Vec<u8>, Vec<WCHAR>)> {
    let text = match n {
        N::Null => return None,
        N::Empty => String::new(),
        N::Fixed { ns, k } => {
            let ns = ["", "Local\\", "Global\\", "local\\"][usize::from(*ns) % 4];
            format!("{ns}fz{}", k % 4)
        }
        N::Text(s) => s.chars().take(300).collect(),
        N::Raw(units) => {
            let units: Vec<i32> = units
                .iter()
                .copied()
                .take_while(|&u| u != 0)
                .take(300)
                .collect();
            let mut narrow: Vec<u8> = units.iter().map(|&u| u as u8).filter(|&b| b != 0).collect();
            narrow.push(0);
            let mut wide = units;
            wide.push(0);
            return Some((narrow, wide));
        }
    };
    let mut narrow: Vec<u8> = text.bytes().filter(|&b| b != 0).collect();
    narrow.push(0);
    let wide = text
        .chars()
        .filter(|&c| c != '\0')
        .map(|c| c as WCHAR)
        .chain([0])
        .collect();
    Some((narrow, wide))
}

fn ptrs(n: &Option<(Vec<u8>, Vec<WCHAR>)>) -> (LPCSTR, LPCWSTR) {
    match n {
        Some((a, w)) => (a.as_ptr().cast(), w.as_ptr()),
        None => (null(), null()),
    }
}

/// A failed call must say why.
fn failed_with_a_reason(what: &str) {
    assert_ne!(GetLastError(), 0, "{what} failed with no last error");
}

fn run(s: &mut State, op: Op, file_path: &CString) {
    match op {
        Op::CreateMapping {
            wide,
            file,
            sa,
            protect,
            size,
            name,
        } => {
            let file = file.map_or(INVALID, |h| s.handle(h));
            let sa = sa.map(|inherit| SECURITY_ATTRIBUTES {
                nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as DWORD,
                lpSecurityDescriptor: null_mut(),
                bInheritHandle: BOOL::from(inherit),
            });
            let sa_ptr = sa.as_ref().map_or(null(), |sa| sa as *const _);
            let (high, low) = match size {
                Size::Small(n) => (0, n % (1 << 20)),
                Size::Huge(high, low) => (high | 0x0001_0000, low),
            };
            let n = names(&name);
            let (a, w) = ptrs(&n);
            // SAFETY: the pointers are NULL or NUL-terminated strings and a live struct.
            let h = unsafe {
                if wide {
                    CreateFileMappingW(file, sa_ptr, protect, high, low, w)
                } else {
                    CreateFileMappingA(file, sa_ptr, protect, high, low, a)
                }
            };
            if h.is_null() {
                failed_with_a_reason("CreateFileMapping");
            }
            s.made(h);
        }
        Op::OpenMapping {
            wide,
            access,
            inherit,
            name,
        } => {
            let n = names(&name);
            let (a, w) = ptrs(&n);
            // SAFETY: NULL or NUL-terminated names.
            let h = unsafe {
                if wide {
                    OpenFileMappingW(access, inherit.into(), w)
                } else {
                    OpenFileMappingA(access, inherit.into(), a)
                }
            };
            if h.is_null() {
                failed_with_a_reason("OpenFileMapping");
            }
            s.made(h);
        }
        Op::Map {
            h,
            access,
            offset,
            len,
            at,
        } => {
            let h = s.handle(h);
            let (high, low) = ((offset >> 32) as DWORD, offset as DWORD);
            let base = match at {
                None => MapViewOfFile(h, access, high, low, len),
                // SAFETY: the address is only compared.
                Some(at) => unsafe { MapViewOfFileEx(h, access, high, low, len, s.addr(at)) },
            };
            if base.is_null() {
                failed_with_a_reason("MapViewOfFile");
            } else {
                let mut info = std::mem::MaybeUninit::<MEMORY_BASIC_INFORMATION>::uninit();
                let size = std::mem::size_of::<MEMORY_BASIC_INFORMATION>();
                // SAFETY: `info` has room for the structure.
                let n = unsafe { VirtualQuery(base, info.as_mut_ptr(), size) };
                assert_eq!(n, size);
                // SAFETY: VirtualQuery wrote it.
                let info = unsafe { info.assume_init() };
                assert_eq!(info.AllocationBase, base);
                s.views.push((base, info.RegionSize));
            }
        }
        Op::Unmap(a) => {
            let a = s.addr(a);
            if UnmapViewOfFile(a) == FALSE {
                failed_with_a_reason("UnmapViewOfFile");
            } else {
                s.views
                    .retain(|&(b, len)| !(b <= a && (a as usize) < b as usize + len));
            }
        }
        Op::Flush(a, len) => {
            if FlushViewOfFile(s.addr(a), len) == FALSE {
                failed_with_a_reason("FlushViewOfFile");
            }
        }
        Op::Query {
            at,
            null_info,
            short,
        } => {
            let mut info = std::mem::MaybeUninit::<MEMORY_BASIC_INFORMATION>::uninit();
            let size = std::mem::size_of::<MEMORY_BASIC_INFORMATION>() - usize::from(short);
            let p = if null_info {
                null_mut()
            } else {
                info.as_mut_ptr()
            };
            // SAFETY: `p` is NULL or has room for `size` bytes.
            if unsafe { VirtualQuery(s.addr(at), p, size) } == 0 {
                failed_with_a_reason("VirtualQuery");
            }
        }
        Op::CreateFile {
            access,
            disposition,
            delete_on_close,
        } => {
            let flags = if delete_on_close { 0x0400_0000 } else { 0 };
            // SAFETY: a NUL-terminated path, no SECURITY_ATTRIBUTES.
            let h = unsafe {
                CreateFileA(
                    file_path.as_ptr(),
                    access,
                    0,
                    null(),
                    disposition % 7,
                    flags,
                    null_mut(),
                )
            };
            if h == INVALID {
                failed_with_a_reason("CreateFile");
            }
            s.made(h);
        }
        Op::Close(h) => {
            let v = s.handle(h);
            if CloseHandle(v) == FALSE {
                failed_with_a_reason("CloseHandle");
            } else if let Some(i) = s.handles.iter().position(|&x| x == v) {
                s.closed.push(s.handles.remove(i));
            }
        }
        Op::Duplicate {
            from,
            source,
            to,
            null_target,
            inherit,
            options,
        } => {
            let (from, source, to) = (s.handle(from), s.handle(source), s.handle(to));
            let mut out: HANDLE = null_mut();
            let target = if null_target {
                null_mut()
            } else {
                &mut out as *mut HANDLE
            };
            // SAFETY: `target` is NULL or a writable HANDLE.
            let ok =
                unsafe { DuplicateHandle(from, source, to, target, 0, inherit.into(), options) };
            if ok == FALSE {
                failed_with_a_reason("DuplicateHandle");
            }
            if options & 1 != 0 {
                // DUPLICATE_CLOSE_SOURCE closes the source whatever the outcome.
                if let Some(i) = s.handles.iter().position(|&x| x == source) {
                    s.closed.push(s.handles.remove(i));
                }
            }
            s.made(out);
        }
        Op::WaitOne(h, ms) => {
            if WaitForSingleObject(s.handle(h), DWORD::from(ms % 4)) == WAIT_FAILED {
                failed_with_a_reason("WaitForSingleObject");
            }
        }
        Op::WaitMany {
            hs,
            all,
            ms,
            count,
            null: no_list,
        } => {
            let list: Vec<HANDLE> = hs.iter().take(65).map(|&h| s.handle(h)).collect();
            // A count past the list would read past it: only smaller ones (or 0).
            let n = count.map_or(list.len() as u32, |c| c % (list.len() as u32 + 1));
            let p = if no_list { null() } else { list.as_ptr() };
            // SAFETY: `p` is NULL or holds at least `n` handles.
            let r = unsafe { WaitForMultipleObjects(n, p, all.into(), DWORD::from(ms % 4)) };
            if r == WAIT_FAILED {
                failed_with_a_reason("WaitForMultipleObjects");
            }
        }
        Op::CreateMutex { wide, owner, name } => {
            let n = names(&name);
            let (a, w) = ptrs(&n);
            // SAFETY: NULL SECURITY_ATTRIBUTES, NULL or NUL-terminated names.
            let h = unsafe {
                if wide {
                    CreateMutexW(null(), owner.into(), w)
                } else {
                    CreateMutexA(null(), owner.into(), a)
                }
            };
            if h.is_null() {
                failed_with_a_reason("CreateMutex");
            }
            s.made(h);
        }
        Op::CreateEvent {
            wide,
            manual,
            set,
            name,
        } => {
            let n = names(&name);
            let (a, w) = ptrs(&n);
            // SAFETY: as above.
            let h = unsafe {
                if wide {
                    CreateEventW(null(), manual.into(), set.into(), w)
                } else {
                    CreateEventA(null(), manual.into(), set.into(), a)
                }
            };
            if h.is_null() {
                failed_with_a_reason("CreateEvent");
            }
            s.made(h);
        }
        Op::CreateSemaphore {
            wide,
            initial,
            max,
            name,
        } => {
            let n = names(&name);
            let (a, w) = ptrs(&n);
            // SAFETY: as above.
            let h = unsafe {
                if wide {
                    CreateSemaphoreW(null(), initial, max, w)
                } else {
                    CreateSemaphoreA(null(), initial, max, a)
                }
            };
            if h.is_null() {
                failed_with_a_reason("CreateSemaphore");
            }
            s.made(h);
        }
        Op::Open {
            wide,
            kind,
            inherit,
            name,
        } => {
            let n = names(&name);
            let (a, w) = ptrs(&n);
            let i = BOOL::from(inherit);
            // SAFETY: NULL or NUL-terminated names.
            let h = unsafe {
                match (kind % 3, wide) {
                    (0, false) => OpenMutexA(0, i, a),
                    (0, true) => OpenMutexW(0, i, w),
                    (1, false) => OpenEventA(0, i, a),
                    (1, true) => OpenEventW(0, i, w),
                    (_, false) => OpenSemaphoreA(0, i, a),
                    (_, true) => OpenSemaphoreW(0, i, w),
                }
            };
            if h.is_null() {
                failed_with_a_reason("Open");
            }
            s.made(h);
        }
        Op::ReleaseMutex(h) => {
            if ReleaseMutex(s.handle(h)) == FALSE {
                failed_with_a_reason("ReleaseMutex");
            }
        }
        Op::SetEvent(h) => {
            if SetEvent(s.handle(h)) == FALSE {
                failed_with_a_reason("SetEvent");
            }
        }
        Op::ResetEvent(h) => {
            if ResetEvent(s.handle(h)) == FALSE {
                failed_with_a_reason("ResetEvent");
            }
        }
        Op::ReleaseSemaphore {
            h,
            count,
            null_previous,
        } => {
            let mut prev: LONG = -1;
            let p = if null_previous {
                null_mut()
            } else {
                &mut prev as *mut LONG
            };
            // SAFETY: `p` is NULL or a writable LONG.
            if unsafe { ReleaseSemaphore(s.handle(h), count, p) } == FALSE {
                failed_with_a_reason("ReleaseSemaphore");
            } else if !null_previous {
                assert!(prev >= 0);
            }
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let dir = store();
    let file_path = CString::new(format!("{dir}/file")).unwrap();
    let mut s = State::default();
    for op in ops.into_iter().take(64) {
        SetLastError(0);
        run(&mut s, op, &file_path);
    }
    for (base, _) in std::mem::take(&mut s.views) {
        UnmapViewOfFile(base);
    }
    for h in std::mem::take(&mut s.handles) {
        CloseHandle(h);
    }
    let _ = std::fs::remove_file(format!("{dir}/file"));
});
