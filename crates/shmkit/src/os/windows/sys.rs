//! Small safe wrappers over the Win32 calls the backend shares: wide strings, the last
//! error, handle duplication, the section query and the caller's identity.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::sync::OnceLock;
use windows_sys::Win32::Foundation::{
    DuplicateHandle, GetHandleInformation, LocalFree, SetHandleInformation, DUPLICATE_SAME_ACCESS,
    HANDLE, HANDLE_FLAG_INHERIT,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, GetSecurityInfo, SE_KERNEL_OBJECT,
};
use windows_sys::Win32::Security::{
    EqualSid, GetTokenInformation, TokenOwner, TokenPrimaryGroup, TokenUser,
    OWNER_SECURITY_INFORMATION, PSID, TOKEN_QUERY,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// `s` as a NUL-terminated UTF-16 string.
pub(crate) fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The calling thread's last Win32 error.
pub(crate) fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// The Win32 code of `e` (0 when it has none).
pub(crate) fn code_of(e: &io::Error) -> u32 {
    e.raw_os_error().map_or(0, |c| c as u32)
}

/// Takes ownership of a handle a Win32 call returned; `None` (with the last error) for
/// the null handle that reports failure.
pub(crate) fn owned(h: HANDLE) -> io::Result<OwnedHandle> {
    if h.is_null() {
        return Err(last_error());
    }
    // SAFETY: `h` is a fresh handle that the call just returned to this process and that
    // nothing else owns; the OwnedHandle closes it exactly once.
    Ok(unsafe { OwnedHandle::from_raw_handle(h as RawHandle) })
}

/// A duplicate of `h` in this process, with the same access; `inherit` makes it
/// inheritable by children started afterwards.
pub(crate) fn duplicate(h: RawHandle, inherit: bool) -> io::Result<OwnedHandle> {
    let mut out: HANDLE = std::ptr::null_mut();
    // SAFETY: plain FFI call; `h` is only read by the kernel, which validates it, and
    // `out` is a valid place for the new handle.
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            h as HANDLE,
            GetCurrentProcess(),
            &mut out,
            0,
            i32::from(inherit),
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    owned(out)
}

/// The handle flags of `h` (`HANDLE_FLAG_INHERIT`, ...), or an error when `h` is not an
/// open handle of this process.
pub(crate) fn handle_flags(h: RawHandle) -> io::Result<u32> {
    let mut flags = 0u32;
    // SAFETY: plain FFI call; the kernel validates `h`; `flags` is a valid out pointer.
    if unsafe { GetHandleInformation(h as HANDLE, &mut flags) } == 0 {
        return Err(last_error());
    }
    Ok(flags)
}

/// Makes `h` inheritable or not.
pub(crate) fn set_inheritable(h: &OwnedHandle, inherit: bool) -> io::Result<()> {
    let flags = if inherit { HANDLE_FLAG_INHERIT } else { 0 };
    // SAFETY: plain FFI call on a handle this process owns.
    if unsafe { SetHandleInformation(h.as_raw_handle() as HANDLE, HANDLE_FLAG_INHERIT, flags) } == 0
    {
        return Err(last_error());
    }
    Ok(())
}

#[repr(C)]
struct SectionBasicInformation {
    base_address: *mut c_void,
    allocation_attributes: u32,
    maximum_size: i64,
}

#[link(name = "ntdll", kind = "raw-dylib")]
extern "system" {
    /// Documented in the Windows Driver Kit as `ZwQuerySection`; the one way to learn
    /// the size of a section object from a handle.
    fn NtQuerySection(
        section: HANDLE,
        class: u32,
        info: *mut c_void,
        len: usize,
        result_len: *mut usize,
    ) -> i32;
}

/// The size of the section object `h` as Windows reports it: whole pages for paging-file
/// objects, the file's size for file-backed ones. Fails for handles of other kinds.
pub(crate) fn section_size(h: RawHandle) -> io::Result<u64> {
    let mut info = SectionBasicInformation {
        base_address: std::ptr::null_mut(),
        allocation_attributes: 0,
        maximum_size: 0,
    };
    // SAFETY: `info` is a valid, writable SECTION_BASIC_INFORMATION (class 0) of the
    // size passed; the kernel validates `h` and its access (SECTION_QUERY).
    let status = unsafe {
        NtQuerySection(
            h as HANDLE,
            0,
            (&mut info as *mut SectionBasicInformation).cast(),
            std::mem::size_of::<SectionBasicInformation>(),
            std::ptr::null_mut(),
        )
    };
    if status < 0 {
        // STATUS_OBJECT_TYPE_MISMATCH and STATUS_INVALID_HANDLE: not a section handle.
        return Err(io::Error::from_raw_os_error(
            crate::error::code::INVALID_HANDLE as i32,
        ));
    }
    u64::try_from(info.maximum_size).map_err(|_| io::Error::other("negative section size"))
}

/// The SIDs of the calling user, as SDDL strings and as binary SIDs.
pub(crate) struct Identity {
    /// The user (`TokenUser`).
    pub user: String,
    /// The primary group (`TokenPrimaryGroup`): the "group" of the permission bits.
    pub group: String,
    user_sid: Vec<u8>,
    owner_sid: Vec<u8>,
}

// SAFETY: the SIDs are plain bytes copied out of the token; nothing refers to the token.
unsafe impl Send for Identity {}
// SAFETY: as for Send; the value is never mutated after construction.
unsafe impl Sync for Identity {}

/// The token's information of `class`; the SIDs in it point into the returned buffer.
fn token_info(token: &OwnedHandle, class: i32) -> io::Result<Vec<u64>> {
    let mut len = 0u32;
    // SAFETY: a size query (null buffer, length 0); `len` is a valid out pointer.
    unsafe {
        GetTokenInformation(
            token.as_raw_handle() as HANDLE,
            class,
            std::ptr::null_mut(),
            0,
            &mut len,
        )
    };
    // u64 elements keep the buffer aligned for the SID_AND_ATTRIBUTES at its start.
    let mut buf = vec![0u64; (len as usize).div_ceil(8).max(1)];
    // SAFETY: `buf` is writable for `len` bytes (at least), as the call requires.
    if unsafe {
        GetTokenInformation(
            token.as_raw_handle() as HANDLE,
            class,
            buf.as_mut_ptr().cast(),
            len,
            &mut len,
        )
    } == 0
    {
        return Err(last_error());
    }
    Ok(buf)
}

/// The SID at the start of a TOKEN_USER / TOKEN_OWNER / TOKEN_PRIMARY_GROUP buffer; it
/// points into that buffer.
fn first_sid(info: &[u64]) -> PSID {
    // SAFETY: each of these structures starts with a PSID, and the buffer holds one.
    unsafe { std::ptr::read_unaligned(info.as_ptr().cast::<PSID>()) }
}

fn sid_string(sid: PSID) -> io::Result<String> {
    let mut s: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` points to a valid SID inside a live token buffer; `s` receives a
    // LocalAlloc'd string that is freed below.
    if unsafe { ConvertSidToStringSidW(sid, &mut s) } == 0 {
        return Err(last_error());
    }
    // SAFETY: `s` is a NUL-terminated UTF-16 string the call allocated.
    let len = (0..).take_while(|&i| unsafe { *s.add(i) } != 0).count();
    // SAFETY: `len` units before the NUL are initialised.
    let text = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(s, len) });
    // SAFETY: frees the string allocated by ConvertSidToStringSidW, once.
    unsafe { LocalFree(s.cast()) };
    Ok(text)
}

/// A copy of the SID bytes that `sid` points to (it lies inside `buf`).
fn sid_bytes(sid: PSID, buf: &[u64]) -> Vec<u8> {
    // SAFETY: reinterpreting the initialised u64 buffer as bytes.
    let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), buf.len() * 8) };
    let start = sid as usize - buf.as_ptr() as usize;
    // A SID is 8 bytes plus 4 per sub-authority; the count is its second byte.
    let count = usize::from(bytes[start + 1]);
    bytes[start..start + 8 + 4 * count].to_vec()
}

fn load_identity() -> io::Result<Identity> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: plain FFI call; `token` is a valid out pointer.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(last_error());
    }
    let token = owned(token)?;
    let user_info = token_info(&token, TokenUser)?;
    let group_info = token_info(&token, TokenPrimaryGroup)?;
    let owner_info = token_info(&token, TokenOwner)?;
    let (user, group, owner) = (
        first_sid(&user_info),
        first_sid(&group_info),
        first_sid(&owner_info),
    );
    Ok(Identity {
        user: sid_string(user)?,
        group: sid_string(group)?,
        user_sid: sid_bytes(user, &user_info),
        owner_sid: sid_bytes(owner, &owner_info),
    })
}

/// The calling process's identity, read from its token once.
pub(crate) fn identity() -> io::Result<&'static Identity> {
    static ID: OnceLock<Identity> = OnceLock::new();
    if let Some(id) = ID.get() {
        return Ok(id);
    }
    let id = load_identity()?;
    Ok(ID.get_or_init(|| id))
}

/// Whether the object behind `h` (a kernel object, or a file with `file`) is owned by
/// the calling user: its owner is the token's user or its default owner (an
/// administrator's objects are owned by the Administrators group).
pub(crate) fn owned_by_caller(h: RawHandle, file: bool) -> io::Result<bool> {
    let id = identity()?;
    let mut owner: PSID = std::ptr::null_mut();
    let mut sd: *mut c_void = std::ptr::null_mut();
    let kind = if file {
        windows_sys::Win32::Security::Authorization::SE_FILE_OBJECT
    } else {
        SE_KERNEL_OBJECT
    };
    // SAFETY: plain FFI call; `owner` will point into `sd`, which the call allocates
    // and which is freed below after the last use of `owner`.
    let rc = unsafe {
        GetSecurityInfo(
            h as HANDLE,
            kind,
            OWNER_SECURITY_INFORMATION,
            &mut owner,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut sd,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    let mine = [&id.user_sid, &id.owner_sid].iter().any(|sid| {
        // SAFETY: both pointers are valid SIDs: `owner` inside `sd`, `sid` a copy.
        unsafe { EqualSid(owner, sid.as_ptr() as PSID) != 0 }
    });
    // SAFETY: frees the descriptor GetSecurityInfo allocated, once; `owner` is dead.
    unsafe { LocalFree(sd) };
    Ok(mine)
}

/// The inheritable handles that objects of this process own (their `inheritable(true)`
/// twins): a token naming one of them is not an inherited handle, and adopting it would
/// close it twice.
static OWNED_INHERITABLE: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// An inheritable duplicate that an object of this process owns.
pub(crate) struct InheritableHandle(Option<OwnedHandle>);

impl InheritableHandle {
    pub(crate) fn new(of: RawHandle) -> io::Result<InheritableHandle> {
        let h = duplicate(of, true)?;
        OWNED_INHERITABLE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(h.as_raw_handle() as usize);
        Ok(InheritableHandle(Some(h)))
    }

    pub(crate) fn value(&self) -> usize {
        self.0.as_ref().map_or(0, |h| h.as_raw_handle() as usize)
    }
}

impl Drop for InheritableHandle {
    fn drop(&mut self) {
        let mut owned = OWNED_INHERITABLE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = owned.iter().position(|&v| v == self.value()) {
            owned.swap_remove(i);
        }
        // Closed while the lock is held, so that no new twin with the same number can
        // be listed in between and then unlisted here.
        drop(self.0.take());
        drop(owned);
    }
}

/// Adopts the handle numbered `value` that this process inherited: it must be open,
/// inheritable, not owned by an object of this process, and pass `check`. Clears its
/// inherit flag, so that it is adopted once and reaches no grandchild.
pub(crate) fn adopt_inherited(
    value: usize,
    check: impl FnOnce(RawHandle) -> bool,
) -> std::result::Result<OwnedHandle, &'static str> {
    let raw = value as RawHandle;
    let owned = OWNED_INHERITABLE.lock().unwrap_or_else(|e| e.into_inner());
    if owned.contains(&value) {
        return Err("the handle is owned by an object of this process, not inherited");
    }
    match handle_flags(raw) {
        Ok(flags) if flags & HANDLE_FLAG_INHERIT != 0 => {}
        Ok(_) => return Err("the handle was not inherited"),
        Err(_) => return Err("no such open handle"),
    }
    if !check(raw) {
        return Err("not an object of the kind the token says");
    }
    // SAFETY: the handle is open and inheritable, and no object of this process owns it
    // (checked under the lock); presenting the token hands it over, and clearing the
    // inherit flag below makes a second adoption fail.
    let h = unsafe { OwnedHandle::from_raw_handle(raw) };
    drop(owned);
    set_inheritable(&h, false).map_err(|_| "cannot clear its inherit flag")?;
    Ok(h)
}

/// Duplicates handle `value` of process `pid` into this process (the child's side of
/// `share_with`).
pub(crate) fn take_from(pid: u32, value: usize) -> io::Result<OwnedHandle> {
    use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_DUP_HANDLE};
    // SAFETY: plain FFI call; the returned process handle is owned below.
    let process = owned(unsafe { OpenProcess(PROCESS_DUP_HANDLE, 0, pid) })?;
    let mut out: HANDLE = std::ptr::null_mut();
    // SAFETY: plain FFI call; the kernel validates `value` in the source process;
    // `out` is a valid place for the new handle.
    let ok = unsafe {
        DuplicateHandle(
            process.as_raw_handle() as HANDLE,
            value as HANDLE,
            GetCurrentProcess(),
            &mut out,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    owned(out)
}

#[link(name = "ntdll", kind = "raw-dylib")]
extern "system" {
    fn NtQueryMutant(h: HANDLE, class: u32, info: *mut c_void, len: u32, out: *mut u32) -> i32;
    fn NtQueryEvent(h: HANDLE, class: u32, info: *mut c_void, len: u32, out: *mut u32) -> i32;
    fn NtQuerySemaphore(h: HANDLE, class: u32, info: *mut c_void, len: u32, out: *mut u32) -> i32;
}

/// MUTANT_BASIC_INFORMATION.
#[repr(C)]
#[derive(Default)]
pub(crate) struct MutantInfo {
    pub current_count: i32,
    pub owned_by_caller: u8,
    pub abandoned: u8,
}

/// EVENT_BASIC_INFORMATION: `event_type` 0 is a manual-reset (notification) event.
#[repr(C)]
#[derive(Default)]
pub(crate) struct EventInfo {
    pub event_type: u32,
    pub state: i32,
}

/// SEMAPHORE_BASIC_INFORMATION.
#[repr(C)]
#[derive(Default)]
pub(crate) struct SemaphoreInfo {
    pub current: i32,
    pub maximum: i32,
}

macro_rules! basic_query {
    ($name:ident, $call:ident, $ty:ty) => {
        /// The object's basic information (class 0); fails for other kinds of handle.
        pub(crate) fn $name(h: RawHandle) -> io::Result<$ty> {
            let mut info = <$ty>::default();
            // SAFETY: `info` is a valid, writable structure of the size passed, of the
            // layout the kernel writes for class 0; the kernel validates `h`.
            let status = unsafe {
                $call(
                    h as HANDLE,
                    0,
                    (&mut info as *mut $ty).cast(),
                    std::mem::size_of::<$ty>() as u32,
                    std::ptr::null_mut(),
                )
            };
            if status < 0 {
                return Err(io::Error::from_raw_os_error(
                    crate::error::code::INVALID_HANDLE as i32,
                ));
            }
            Ok(info)
        }
    };
}
basic_query!(query_mutant, NtQueryMutant, MutantInfo);
basic_query!(query_event, NtQueryEvent, EventInfo);
basic_query!(query_semaphore, NtQuerySemaphore, SemaphoreInfo);
