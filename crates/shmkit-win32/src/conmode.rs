//! Console modes (`GetConsoleMode`, `SetConsoleMode`) and the C runtime's
//! `_get_osfhandle`.
//!
//! A console handle is a file handle whose descriptor is a terminal. Descriptor 0 is the
//! console's input: its mode is read from and written to the terminal's settings
//! (`ENABLE_PROCESSED_INPUT` is `ISIG`, `ENABLE_LINE_INPUT` `ICANON`, `ENABLE_ECHO_INPUT`
//! `ECHO`). Any other terminal descriptor is a screen buffer, whose mode is kept here.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{self, ffi};
use crate::file::GetStdHandle;
use crate::handles;
use crate::types::{err, BOOL, DWORD, HANDLE, INVALID_HANDLE_VALUE, TRUE};

const ENABLE_PROCESSED_INPUT: DWORD = 0x0001;
const ENABLE_LINE_INPUT: DWORD = 0x0002;
const ENABLE_ECHO_INPUT: DWORD = 0x0004;
/// Every input mode bit Windows defines (`ENABLE_PROCESSED_INPUT` to
/// `ENABLE_VIRTUAL_TERMINAL_INPUT`).
const INPUT_MODES: DWORD = 0x03FF;
/// Every output mode bit (`ENABLE_PROCESSED_OUTPUT` to `ENABLE_LVB_GRID_WORLDWIDE`).
const OUTPUT_MODES: DWORD = 0x001F;
/// A new screen buffer's mode on Windows: `ENABLE_PROCESSED_OUTPUT |
/// ENABLE_WRAP_AT_EOL_OUTPUT`.
static OUTPUT_MODE: AtomicU32 = AtomicU32::new(0x0003);
/// The input mode bits a terminal has no setting for, as last set.
static INPUT_EXTRA: AtomicU32 = AtomicU32::new(0x01F0);

/// The terminal descriptor behind a console handle.
fn console_fd(h: HANDLE) -> error::Result<i32> {
    let file = match handles::file(h) {
        Ok(f) => f,
        Err(_) => return error::fail(err::INVALID_HANDLE),
    };
    let fd = file.file().as_raw_fd();
    // SAFETY: isatty on a descriptor the file object holds open.
    if unsafe { libc::isatty(fd) } != 1 {
        return error::fail(err::INVALID_HANDLE);
    }
    Ok(fd)
}

fn termios_of(fd: i32) -> error::Result<libc::termios> {
    // SAFETY: tcgetattr fills a properly sized termios value.
    unsafe {
        let mut t = std::mem::zeroed::<libc::termios>();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return error::fail(err::INVALID_HANDLE);
        }
        Ok(t)
    }
}

/// `GetConsoleMode`: the mode of a console's input or screen buffer.
///
/// # Safety
/// `mode` is NULL or points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn GetConsoleMode(h: HANDLE, mode: *mut DWORD) -> BOOL {
    ffi(0, || {
        let fd = console_fd(h)?;
        if mode.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let value = if fd == 0 {
            let t = termios_of(fd)?;
            let mut m = INPUT_EXTRA.load(Ordering::Relaxed);
            if t.c_lflag & libc::ISIG != 0 {
                m |= ENABLE_PROCESSED_INPUT;
            }
            if t.c_lflag & libc::ICANON != 0 {
                m |= ENABLE_LINE_INPUT;
            }
            if t.c_lflag & libc::ECHO != 0 {
                m |= ENABLE_ECHO_INPUT;
            }
            m
        } else {
            OUTPUT_MODE.load(Ordering::Relaxed)
        };
        // SAFETY: checked non-NULL; the caller gives a writable DWORD.
        unsafe { *mode = value };
        Ok(TRUE)
    })
}

/// `SetConsoleMode`: sets the mode of a console's input (the terminal's settings) or
/// screen buffer. Bits no mode has are `ERROR_INVALID_PARAMETER`.
#[no_mangle]
pub extern "C" fn SetConsoleMode(h: HANDLE, mode: DWORD) -> BOOL {
    ffi(0, || {
        let fd = console_fd(h)?;
        if fd == 0 {
            if mode & !INPUT_MODES != 0 {
                return error::fail(err::INVALID_PARAMETER);
            }
            let mut t = termios_of(fd)?;
            for (bit, flag) in [
                (ENABLE_PROCESSED_INPUT, libc::ISIG),
                (ENABLE_LINE_INPUT, libc::ICANON),
                (ENABLE_ECHO_INPUT, libc::ECHO),
            ] {
                if mode & bit != 0 {
                    t.c_lflag |= flag;
                } else {
                    t.c_lflag &= !flag;
                }
            }
            // SAFETY: tcsetattr with a termios value tcgetattr gave, changed in lflag.
            if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) } != 0 {
                return error::fail(error::code_of_io(&std::io::Error::last_os_error()));
            }
            INPUT_EXTRA.store(
                mode & !(ENABLE_PROCESSED_INPUT | ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT),
                Ordering::Relaxed,
            );
        } else {
            if mode & !OUTPUT_MODES != 0 {
                return error::fail(err::INVALID_PARAMETER);
            }
            OUTPUT_MODE.store(mode, Ordering::Relaxed);
        }
        Ok(TRUE)
    })
}

/// `_get_osfhandle`: the handle of a C runtime descriptor. The standard streams' (0, 1,
/// 2) are `GetStdHandle`'s handles; any other descriptor is `INVALID_HANDLE_VALUE` with
/// `errno` `EBADF`.
#[no_mangle]
pub extern "C" fn _get_osfhandle(fd: libc::c_int) -> isize {
    const STD: [DWORD; 3] = [-10i32 as DWORD, -11i32 as DWORD, -12i32 as DWORD];
    let h = match usize::try_from(fd).ok().and_then(|i| STD.get(i)) {
        // SAFETY: fcntl F_GETFD only asks whether the descriptor is open.
        Some(&which) if unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1 => {
            let saved = error::get();
            let h = GetStdHandle(which);
            error::set(saved);
            h
        }
        _ => INVALID_HANDLE_VALUE,
    };
    if h == INVALID_HANDLE_VALUE {
        // SAFETY: errno is this thread's.
        unsafe { *libc::__errno_location() = libc::EBADF };
    }
    h as isize
}
