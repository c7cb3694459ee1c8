//! Processes: `CreateProcess` (with inherited handles), `GetExitCodeProcess`,
//! `ExitProcess`, `TerminateProcess`, `GetCurrentProcess(Id)`, `GetCurrentThreadId`,
//! `Sleep`, `GetCommandLine`. The command
//! line is `cmdline`'s, the environment block `environment`'s, what the child inherits
//! `inherit`'s.

use crate::cmdline::{find_program, split_command_line};
use crate::environment::env_block;
use crate::error::{self, ffi, Result};
use crate::handles;
use crate::inherit;
use crate::objects::{Object, ProcessObject};
use crate::strings;
use crate::suspend;
use crate::types::*;
use std::ffi::{c_char, c_int, c_void};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The parts of a `CreateProcess` call, decoded from either form.
struct Spawn {
    application: Option<String>,
    command_line: Option<String>,
    inherit: bool,
    flags: DWORD,
    env: Option<Vec<(String, String)>>,
    cwd: Option<Vec<u8>>,
    std_handles: Option<[HANDLE; 3]>,
    process_inheritable: bool,
    thread_inheritable: bool,
}

fn stdio_of(h: HANDLE) -> Option<Stdio> {
    match handles::get(h) {
        Ok(Object::File(f)) => f.file().try_clone().ok().map(Stdio::from),
        _ => None,
    }
}

fn spawn(s: Spawn, info: *mut PROCESS_INFORMATION) -> Result<BOOL> {
    if info.is_null() {
        return error::fail(err::INVALID_PARAMETER);
    }
    let mut args = match (&s.command_line, &s.application) {
        (Some(line), _) if !line.trim().is_empty() => split_command_line(line),
        (_, Some(app)) => vec![app.clone()],
        _ => return error::fail(err::INVALID_PARAMETER),
    };
    let program = find_program(s.application.as_deref().unwrap_or(&args[0]))?;
    if s.application.is_some() && s.command_line.is_none() {
        args[0] = program.to_string_lossy().into_owned();
    }
    let mut cmd = Command::new(&program);
    cmd.arg0(&args[0]).args(&args[1..]);
    if let Some(env) = &s.env {
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    }
    if let Some(dir) = &s.cwd {
        cmd.current_dir(strings::path_of(dir.clone()));
    }
    if let Some([i, o, e]) = s.std_handles {
        if let Some(x) = stdio_of(i) {
            cmd.stdin(x);
        }
        if let Some(x) = stdio_of(o) {
            cmd.stdout(x);
        }
        if let Some(x) = stdio_of(e) {
            cmd.stderr(x);
        }
    }
    if s.inherit {
        inherit::share(&mut cmd, handles::inheritable())?;
    } else {
        inherit::withhold(&mut cmd);
    }
    flush_terminal_streams();
    check_program(&program)?;
    let process = if s.flags & CREATE_SUSPENDED != 0 {
        ProcessObject::held_child(suspend::spawn(cmd)?)
    } else {
        let child = cmd.spawn().map_err(|e| match e.raw_os_error() {
            // Windows says a file that is no program is not a valid application.
            Some(libc::ENOEXEC) => error::Win32Error(err::BAD_EXE_FORMAT),
            _ => e.into(),
        })?;
        drop(cmd);
        ProcessObject::child(child)
    };
    let pid = process.pid();
    let process = Arc::new(process);
    let hp = handles::insert(Object::Process(process.clone()), s.process_inheritable);
    let ht = handles::insert(Object::Thread(process), s.thread_inheritable);
    // SAFETY: `info` is non-NULL (checked) and writable, by the caller's contract.
    unsafe {
        info.write(PROCESS_INFORMATION {
            hProcess: hp,
            hThread: ht,
            dwProcessId: pid,
            dwThreadId: pid,
        })
    };
    Ok(TRUE)
}

/// What the exec of a child would say of `program`, said before the fork (for a child
/// started suspended, the exec comes only when it is resumed): a file that is neither an ELF image nor a script (`#!`) is
/// `ERROR_BAD_EXE_FORMAT` (as Windows says of a file that is no program), one that no
/// one may execute `ERROR_ACCESS_DENIED`.
fn check_program(program: &std::path::Path) -> Result<()> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let mut file = match std::fs::File::open(program) {
        Ok(f) => f,
        // A program that may be run but not read: its exec will tell.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    if !(n == 4 && magic == *b"\x7fELF" || n >= 2 && magic[..2] == *b"#!") {
        return error::fail(err::BAD_EXE_FORMAT);
    }
    if file.metadata()?.permissions().mode() & 0o111 == 0 {
        return error::fail(err::ACCESS_DENIED);
    }
    Ok(())
}

extern "C" {
    // The C library's standard streams (glibc exports them as variables).
    static mut stdout: *mut libc::FILE;
    static mut stderr: *mut libc::FILE;
}

/// Writes out what the C library holds for a standard stream that is a terminal, before
/// a child starts: Windows' C runtime never holds console output back (each printf
/// reaches the console when it returns), so what the parent printed comes before what
/// its child prints. glibc keeps a line without its newline in the buffer of a terminal
/// stream; it is written here. Streams to files and pipes stay as they are: Windows'
/// C runtime buffers those too, and writes them when the buffer fills or at exit, so
/// a parent's unflushed output to a redirected stdout comes after its child's there too.
fn flush_terminal_streams() {
    // SAFETY: isatty has no preconditions; reading the stream pointers is what every C
    // program does; fflush on a valid stream is thread-safe (it locks the stream).
    unsafe {
        for (fd, stream) in [(1, stdout), (2, stderr)] {
            if !stream.is_null() && libc::isatty(fd) == 1 {
                libc::fflush(stream);
            }
        }
    }
}

/// The fields every `CreateProcess` form shares: the environment block (narrow, or
/// wide with `CREATE_UNICODE_ENVIRONMENT`) and the standard handles of `startup` are
/// read here, whatever the character type of the strings.
///
/// # Safety
/// As for [`CreateProcessA`].
#[allow(clippy::too_many_arguments)]
unsafe fn spawn_common<C>(
    application: Option<String>,
    command_line: Option<String>,
    psa: *const SECURITY_ATTRIBUTES,
    tsa: *const SECURITY_ATTRIBUTES,
    inherit: BOOL,
    flags: DWORD,
    env: *const c_void,
    cwd: Option<Vec<u8>>,
    startup: *const STARTUPINFO<C>,
    info: *mut PROCESS_INFORMATION,
) -> Result<BOOL> {
    // SAFETY: `env` is NULL or an environment block of the kind `flags` says, by the
    // caller's contract.
    let env = (!env.is_null()).then(|| unsafe {
        if flags & CREATE_UNICODE_ENVIRONMENT != 0 {
            env_block(env.cast::<u32>())
        } else {
            env_block(env.cast::<u8>())
        }
    });
    // SAFETY: `startup` is NULL or a valid STARTUPINFO, by the caller's contract.
    let std_handles = unsafe { startup.as_ref() }
        .filter(|s| s.dwFlags & STARTF_USESTDHANDLES != 0)
        .map(|s| [s.hStdInput, s.hStdOutput, s.hStdError]);
    spawn(
        Spawn {
            application,
            command_line,
            inherit: inherit != 0,
            flags,
            env,
            cwd,
            std_handles,
            // SAFETY: NULL or valid, by the caller's contract.
            process_inheritable: unsafe { inheritable(psa) },
            // SAFETY: as above.
            thread_inheritable: unsafe { inheritable(tsa) },
        },
        info,
    )
}

/// `CreateProcessA`: starts a program. The command line is split with the Microsoft C
/// runtime's rules; the program is `lpApplicationName` or the line's first word, looked
/// for in the program's directory, the current directory and `PATH` (a `.exe` suffix is
/// optional). With `bInheritHandles`, every inheritable handle (`bInheritHandle` of its
/// `SECURITY_ATTRIBUTES`, or made so by `DuplicateHandle`) is valid in the child under
/// the same value. `STARTF_USESTDHANDLES` redirects the child's standard streams to file
/// handles. With `CREATE_SUSPENDED` the child exists (its id, its handles) but runs
/// nothing of its program until `ResumeThread` of its thread handle; other creation
/// flags are accepted and have no effect.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `psa`/`tsa` NULL or valid; `env` NULL or an
/// environment block (wide with `CREATE_UNICODE_ENVIRONMENT`); `startup` NULL or a
/// `STARTUPINFOA`; `info` a writable `PROCESS_INFORMATION`.
#[no_mangle]
pub unsafe extern "C" fn CreateProcessA(
    application: LPCSTR,
    command_line: *mut c_char,
    psa: *const SECURITY_ATTRIBUTES,
    tsa: *const SECURITY_ATTRIBUTES,
    inherit: BOOL,
    flags: DWORD,
    env: *const c_void,
    cwd: LPCSTR,
    startup: *const STARTUPINFO<c_char>,
    info: *mut PROCESS_INFORMATION,
) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: every pointer is NULL or valid, by the function's contract.
        unsafe {
            let application = strings::narrow(application)?;
            let command_line = strings::narrow(command_line)?;
            spawn_common(
                application,
                command_line,
                psa,
                tsa,
                inherit,
                flags,
                env,
                strings::narrow_bytes(cwd),
                startup,
                info,
            )
        }
    })
}

/// `CreateProcessW`: [`CreateProcessA`] with wide strings.
///
/// # Safety
/// As for [`CreateProcessA`], with wide strings and a `STARTUPINFOW`.
#[no_mangle]
pub unsafe extern "C" fn CreateProcessW(
    application: LPCWSTR,
    command_line: *mut WCHAR,
    psa: *const SECURITY_ATTRIBUTES,
    tsa: *const SECURITY_ATTRIBUTES,
    inherit: BOOL,
    flags: DWORD,
    env: *const c_void,
    cwd: LPCWSTR,
    startup: *const STARTUPINFO<WCHAR>,
    info: *mut PROCESS_INFORMATION,
) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: every pointer is NULL or valid, by the function's contract.
        unsafe {
            let application = strings::wide(application)?;
            let command_line = strings::wide(command_line)?;
            spawn_common(
                application,
                command_line,
                psa,
                tsa,
                inherit,
                flags,
                env,
                strings::wide_bytes(cwd),
                startup,
                info,
            )
        }
    })
}

/// The process a handle names (a process or its main thread; -1 is the caller).
pub(crate) fn process_of(h: HANDLE) -> Result<Arc<ProcessObject>> {
    match handles::get(h)? {
        Object::Process(p) | Object::Thread(p) => Ok(p),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

/// `GetExitCodeProcess`: the process's exit code, or `STILL_ACTIVE` (259) while it
/// runs. A child killed by signal N reports 128 + N. Linux keeps only the low 8 bits of
/// an exit code.
///
/// # Safety
/// `code` points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn GetExitCodeProcess(h: HANDLE, code: *mut DWORD) -> BOOL {
    ffi(FALSE, || {
        let p = process_of(h)?;
        if code.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let value = if p.is_current() { None } else { p.poll() };
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { *code = value.unwrap_or(STILL_ACTIVE) };
        Ok(TRUE)
    })
}

/// `ExitProcess`: ends the process with `code` (the C runtime's exit handlers run and
/// its buffers are flushed; libraries get `DLL_PROCESS_DETACH`).
#[no_mangle]
pub extern "C" fn ExitProcess(code: DWORD) -> ! {
    // SAFETY: exit(3) may be called from any thread; it never returns.
    unsafe { libc::exit(code as c_int) }
}

/// `GetCurrentProcessId`: the calling process's id.
#[no_mangle]
pub extern "C" fn GetCurrentProcessId() -> DWORD {
    std::process::id()
}

/// `GetCurrentProcess`: the pseudo handle (-1) that names the calling process.
#[no_mangle]
pub extern "C" fn GetCurrentProcess() -> HANDLE {
    INVALID_HANDLE_VALUE
}

/// `GetCurrentThread`: the pseudo handle (-2) that names the calling thread. Waiting for
/// it times out (the thread runs while it waits); `DuplicateHandle` turns it into a real
/// handle to the thread, signalled when the thread ends; `CloseHandle` of it succeeds.
#[no_mangle]
pub extern "C" fn GetCurrentThread() -> HANDLE {
    CURRENT_THREAD as HANDLE
}

/// `GetProcessId`: the id of the process a process handle names (or a thread handle's
/// process; -1: the calling process).
#[no_mangle]
pub extern "C" fn GetProcessId(h: HANDLE) -> DWORD {
    ffi(0, || match handles::get(h)? {
        Object::Process(p) => Ok(p.pid()),
        _ => error::fail(err::INVALID_HANDLE),
    })
}

/// `GetThreadId`: the id of the thread a thread handle names (-2: the calling thread; a
/// child's main thread has the child's process id, as `dwThreadId` reports it).
#[no_mangle]
pub extern "C" fn GetThreadId(h: HANDLE) -> DWORD {
    ffi(0, || match handles::get(h)? {
        Object::Thread(p) => Ok(p.tid()),
        _ => error::fail(err::INVALID_HANDLE),
    })
}

/// `GetProcessIdOfThread`: the id of the process a thread handle's thread belongs to.
#[no_mangle]
pub extern "C" fn GetProcessIdOfThread(h: HANDLE) -> DWORD {
    ffi(0, || match handles::get(h)? {
        Object::Thread(p) => Ok(p.pid()),
        _ => error::fail(err::INVALID_HANDLE),
    })
}

/// `GetCurrentThreadId`: the calling thread's id.
#[no_mangle]
pub extern "C" fn GetCurrentThreadId() -> DWORD {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as DWORD }
}

/// `Sleep`: suspends the calling thread for `ms` milliseconds (`INFINITE`: forever).
#[no_mangle]
pub extern "C" fn Sleep(ms: DWORD) {
    if ms == INFINITE {
        loop {
            std::thread::park();
        }
    }
    std::thread::sleep(Duration::from_millis(u64::from(ms)));
}

/// `TerminateProcess`: ends a process at once with exit code `code`. For the calling
/// process (its pseudo handle, or a handle to it) no exit handler runs and the C
/// runtime's buffers are not written out, as on Windows (`_exit`). For a child started
/// by `CreateProcess` the child is killed (SIGKILL) and then reports `code` (waits for it
/// end when it has gone); a child that had already ended keeps its own code. Any other
/// handle is `ERROR_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn TerminateProcess(h: HANDLE, code: DWORD) -> BOOL {
    ffi(FALSE, || {
        let p = match handles::get(h)? {
            Object::Process(p) => p,
            _ => return error::fail(err::INVALID_HANDLE),
        };
        if p.is_current() {
            // SAFETY: _exit ends the process; it never returns.
            unsafe { libc::_exit(code as c_int) }
        }
        p.terminate(code)?;
        Ok(TRUE)
    })
}

/// One argument of a command line, quoted as the Microsoft C runtime reads it back: as
/// it is when it has no blank or quote; otherwise in quotes, a quote as `\"`, the
/// backslashes before a quote or the closing quote doubled.
fn quote_argument(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', 2 * backslashes + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.extend(std::iter::repeat_n('\\', 2 * backslashes));
    out.push('"');
    out
}

/// The process's command line, made from its arguments: the program name (in quotes
/// when it has a blank), then each argument quoted so that the C runtime's splitting
/// gives it back.
fn command_line() -> String {
    let mut args = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let program = args.next().unwrap_or_default();
    let mut line = if program.contains([' ', '\t']) {
        format!("\"{program}\"")
    } else {
        program
    };
    for a in args {
        line.push(' ');
        line.push_str(&quote_argument(&a));
    }
    line
}

/// `GetCommandLineA`: the process's command line. Linux passes arguments, not a line:
/// it is rebuilt from them, each quoted so that the Microsoft C runtime's rules (and
/// `CreateProcess` here) split it back into the same arguments. The string lives as long
/// as the process.
#[no_mangle]
pub extern "C" fn GetCommandLineA() -> *const c_char {
    static LINE: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    LINE.get_or_init(|| {
        std::ffi::CString::new(command_line().replace('\0', " ")).unwrap_or_default()
    })
    .as_ptr()
}

/// `GetCommandLineW`: [`GetCommandLineA`] as a wide string.
#[no_mangle]
pub extern "C" fn GetCommandLineW() -> *const WCHAR {
    static LINE: std::sync::OnceLock<Vec<WCHAR>> = std::sync::OnceLock::new();
    LINE.get_or_init(|| strings::to_wide(&command_line().replace('\0', " ")))
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_arguments_split_back_into_themselves() {
        let args = [
            "plain",
            "",
            "two words",
            "a\"quote",
            "back\\slash",
            "trailing\\",
            "both \\\" here\\\\",
            "tab\there",
        ];
        let mut line = String::from("prog");
        for a in args {
            line.push(' ');
            line.push_str(&quote_argument(a));
        }
        let split = split_command_line(&line);
        assert_eq!(split[0], "prog");
        assert_eq!(&split[1..], &args);
    }

    fn held(script: &str) -> ProcessObject {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(script);
        ProcessObject::held_child(suspend::spawn(cmd).unwrap())
    }

    fn wait_gone(pid: u32) {
        let start = std::time::Instant::now();
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            assert!(start.elapsed() < Duration::from_secs(10), "{pid} lingers");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_suspended_child_resumed_runs_and_reports_its_code() {
        let p = held("exit 3");
        assert_eq!(p.poll(), None);
        assert_eq!(p.suspend_main().unwrap(), 1);
        assert_eq!(p.resume_main().unwrap(), 2);
        assert!(!p.wait(Some(Duration::from_millis(50))).unwrap());
        assert_eq!(p.resume_main().unwrap(), 1);
        assert!(p.wait(Some(Duration::from_secs(10))).unwrap());
        assert_eq!(p.poll(), Some(3));
        assert_eq!(
            p.suspend_main().err().map(|e| e.0),
            Some(err::ACCESS_DENIED)
        );
        assert_eq!(p.resume_main().unwrap(), 0);
    }

    #[test]
    fn a_suspended_child_terminated_ends_with_the_code_given() {
        let p = held("exit 3");
        p.terminate(9).unwrap();
        assert!(p.wait(Some(Duration::from_secs(10))).unwrap());
        assert_eq!(p.poll(), Some(9));
    }

    #[test]
    fn a_suspended_child_whose_handles_all_close_never_runs_and_is_reaped() {
        let marker = std::env::temp_dir().join(format!("shmkit-held-{}", std::process::id()));
        let _ = std::fs::remove_file(&marker);
        let p = held(&format!("echo ran > {}", marker.display()));
        let pid = p.pid();
        drop(p);
        wait_gone(pid);
        assert!(!marker.exists(), "the child ran");
    }

    #[test]
    fn a_child_that_was_let_go_is_reaped_once_its_handles_close() {
        let p = held("sleep 0.2");
        let pid = p.pid();
        assert_eq!(p.resume_main().unwrap(), 1);
        drop(p);
        wait_gone(pid);
    }
}
