//! `_getch` and `_getche`: one character from standard input, without waiting for Enter.

use std::ffi::c_int;

extern "C" {
    fn getchar() -> c_int;
    fn putchar(c: c_int) -> c_int;
    fn fflush(stream: *mut libc::FILE) -> c_int;
}

/// Reads one byte through C's `stdin` (so that bytes the program's own stdio has
/// buffered come first); on a terminal, with line buffering and echo off meanwhile.
fn read_one() -> c_int {
    // SAFETY: plain libc calls on descriptor 0 with a properly sized termios value;
    // the terminal's settings are restored before returning.
    unsafe {
        let mut saved = std::mem::zeroed::<libc::termios>();
        let tty = libc::isatty(0) == 1 && libc::tcgetattr(0, &mut saved) == 0;
        if tty {
            let mut raw = saved;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            libc::tcsetattr(0, libc::TCSANOW, &raw);
        }
        let c = getchar();
        if tty {
            libc::tcsetattr(0, libc::TCSANOW, &saved);
        }
        c
    }
}

/// `_getch`: waits for one character from standard input and returns it, without echo;
/// `EOF` (-1) at the end of input.
#[no_mangle]
pub extern "C" fn _getch() -> c_int {
    read_one()
}

/// `_getche`: [`_getch`] that echoes the character.
#[no_mangle]
pub extern "C" fn _getche() -> c_int {
    let c = read_one();
    if c >= 0 {
        // SAFETY: stdio calls on the process's standard output.
        unsafe {
            putchar(c);
            fflush(std::ptr::null_mut());
        }
    }
    c
}
