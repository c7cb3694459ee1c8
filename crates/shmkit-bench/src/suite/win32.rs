//! The Win32 C API of shmkit-win32 as a transport, called as a Windows program calls it
//! (its `extern "C"` functions, from Rust): what waiting for an event costs a program
//! built against `libshmkit_win32`.
//!
//! A named file mapping (`CreateFileMappingA`, `MapViewOfFile`) holds one lane per
//! direction for the payload, and a named auto-reset event per direction announces each
//! message (`SetEvent`). The receiver waits with `WaitForSingleObject` (mode `single`) or
//! with `WaitForMultipleObjects` for any of 1, 8 or 64 handles (modes `any-1`, `any-8`,
//! `any-64`): unsignalled events of its own first, the announcing event last, so that the
//! wait looks at every handle before the one that wakes it. Both ends create-or-open the
//! mapping and the events by name.

use super::system::{Endpoint, Link, System};
use shmkit_win32::{
    CloseHandle, CreateEventA, CreateFileMappingA, GetLastError, MapViewOfFile, SetEvent,
    UnmapViewOfFile, WaitForMultipleObjects, WaitForSingleObject, BOOL, DWORD, HANDLE,
};
use std::ffi::CString;
use std::io;

// The values of windows.h.
const INVALID_HANDLE_VALUE: HANDLE = usize::MAX as HANDLE;
const PAGE_READWRITE: DWORD = 0x04;
const FILE_MAP_ALL_ACCESS: DWORD = 0x000F_001F;
const INFINITE: DWORD = 0xFFFF_FFFF;
const WAIT_OBJECT_0: DWORD = 0;
const FALSE: BOOL = 0;

macro_rules! wait_system {
    ($name:ident, $mode:literal) => {
        #[doc = concat!("The receiver waits in mode `", $mode, "`.")]
        pub const $name: System = System {
            system: "win32-wait",
            mode: $mode,
            prepare: None,
            listen,
            connect,
        };
    };
}

wait_system!(SINGLE, "single");
wait_system!(ANY_1, "any-1");
wait_system!(ANY_8, "any-8");
wait_system!(ANY_64, "any-64");

/// How many handles the receiver's wait names (`None`: `WaitForSingleObject`).
fn handles_of(mode: &str) -> io::Result<Option<usize>> {
    match mode {
        "single" => Ok(None),
        "any-1" => Ok(Some(1)),
        "any-8" => Ok(Some(8)),
        "any-64" => Ok(Some(64)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("win32-wait has no mode {other:?}"),
        )),
    }
}

fn last_error(what: &str) -> io::Error {
    io::Error::other(format!("{what} failed: Win32 error {}", GetLastError()))
}

fn c_name(link: &Link, part: &str) -> io::Result<CString> {
    CString::new(format!("Local\\{}-{part}", link.name))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// Lane 0 carries the connecting end's messages, lane 1 the listening end's.
fn listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    open(link, 1, 0)
}

fn connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    open(link, 0, 1)
}

fn open(link: &mut Link, tx: usize, rx: usize) -> io::Result<Box<dyn Endpoint>> {
    let count = handles_of(&link.mode)?;
    let lane = link.max_message.next_multiple_of(4096);
    let mut end = Win32 {
        map: std::ptr::null_mut(),
        view: std::ptr::null_mut(),
        send_event: std::ptr::null_mut(),
        wait_set: Vec::new(),
        single: count.is_none(),
        tx: tx * lane,
        rx: rx * lane,
        max: link.max_message,
    };
    let map_name = c_name(link, "lanes")?;
    let size = 2 * lane as u64;
    // SAFETY: a NULL SECURITY_ATTRIBUTES and a NUL-terminated name, as the function asks.
    end.map = unsafe {
        CreateFileMappingA(
            INVALID_HANDLE_VALUE,
            std::ptr::null(),
            PAGE_READWRITE,
            (size >> 32) as DWORD,
            size as DWORD,
            map_name.as_ptr(),
        )
    };
    if end.map.is_null() {
        return Err(last_error("CreateFileMappingA"));
    }
    end.view = MapViewOfFile(end.map, FILE_MAP_ALL_ACCESS, 0, 0, 0).cast();
    if end.view.is_null() {
        return Err(last_error("MapViewOfFile"));
    }
    let event = |name: Option<&CString>| {
        let name = name.map_or(std::ptr::null(), |n| n.as_ptr());
        // SAFETY: a NULL SECURITY_ATTRIBUTES; `name` is NULL or NUL-terminated.
        let h = unsafe { CreateEventA(std::ptr::null(), FALSE, FALSE, name) };
        if h.is_null() {
            Err(last_error("CreateEventA"))
        } else {
            Ok(h)
        }
    };
    end.send_event = event(Some(&c_name(link, &format!("event{tx}"))?))?;
    // The unsignalled events first, the one the peer sets last.
    for _ in 1..count.unwrap_or(1) {
        end.wait_set.push(event(None)?);
    }
    end.wait_set
        .push(event(Some(&c_name(link, &format!("event{rx}"))?))?);
    Ok(Box::new(end))
}

struct Win32 {
    map: HANDLE,
    view: *mut u8,
    send_event: HANDLE,
    /// The handles the receiver waits for; the peer's event is the last.
    wait_set: Vec<HANDLE>,
    single: bool,
    tx: usize,
    rx: usize,
    max: usize,
}

impl Win32 {
    fn check_len(&self, len: usize) -> io::Result<()> {
        if len > self.max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a {len}-byte message exceeds the lane's {} bytes", self.max),
            ));
        }
        Ok(())
    }
}

impl Endpoint for Win32 {
    fn send(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        self.check_len(len)?;
        // SAFETY: the lane lies inside the view (len <= max, checked), which lives as long
        // as `self`. The peer reads it only after the event below announces it and is done
        // with it before it answers; this end sends again only after that answer.
        fill(unsafe { std::slice::from_raw_parts_mut(self.view.add(self.tx), len) });
        if SetEvent(self.send_event) == 0 {
            return Err(last_error("SetEvent"));
        }
        Ok(())
    }

    fn recv(&mut self, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        self.check_len(len)?;
        let last = self.wait_set.len() - 1;
        let r = if self.single {
            WaitForSingleObject(self.wait_set[last], INFINITE)
        } else {
            // SAFETY: `wait_set` holds `len()` handles.
            unsafe {
                WaitForMultipleObjects(
                    self.wait_set.len() as DWORD,
                    self.wait_set.as_ptr(),
                    FALSE,
                    INFINITE,
                )
            }
        };
        let want = if self.single {
            WAIT_OBJECT_0
        } else {
            WAIT_OBJECT_0 + last as DWORD
        };
        if r != want {
            return Err(io::Error::other(format!(
                "the wait returned {r:#x}, not {want:#x} (Win32 error {})",
                GetLastError()
            )));
        }
        // SAFETY: inside the view (checked length); the wait saw the peer's SetEvent, made
        // after it wrote the lane, and the peer writes the lane again only after this end
        // answers.
        read(unsafe { std::slice::from_raw_parts(self.view.add(self.rx), len) });
        Ok(())
    }
}

impl Drop for Win32 {
    fn drop(&mut self) {
        if !self.view.is_null() {
            UnmapViewOfFile(self.view.cast());
        }
        for h in self.wait_set.drain(..).chain([self.send_event, self.map]) {
            if !h.is_null() {
                CloseHandle(h);
            }
        }
    }
}
