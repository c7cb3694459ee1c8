//! The Win32 types and constants of the C API, as `include/windows.h` declares them.

use std::ffi::{c_char, c_void};

/// `BOOL`: a C `int`, `TRUE` (1) or `FALSE` (0).
pub type BOOL = i32;
/// `DWORD`: 32 bits unsigned on every platform.
pub type DWORD = u32;
/// `LONG`: 32 bits signed on every platform.
pub type LONG = i32;
/// `ULONG`: 32 bits unsigned.
pub type ULONG = u32;
/// `BOOLEAN`: one byte, 0 or 1.
pub type BOOLEAN = u8;
/// `HANDLE`: an opaque value naming an entry of the handle table.
pub type HANDLE = *mut c_void;
/// `WCHAR`: the platform's `wchar_t` (UTF-32 on Linux).
pub type WCHAR = libc::wchar_t;
/// `LPCSTR`: a NUL-terminated narrow (UTF-8) string.
pub type LPCSTR = *const c_char;
/// `LPCWSTR`: a NUL-terminated wide string.
pub type LPCWSTR = *const WCHAR;

pub(crate) const TRUE: BOOL = 1;
pub(crate) const FALSE: BOOL = 0;
pub(crate) const INVALID_HANDLE_VALUE: HANDLE = usize::MAX as HANDLE;
/// `GetCurrentThread()`'s pseudo handle.
pub(crate) const CURRENT_THREAD: usize = usize::MAX - 1;
pub(crate) const INFINITE: DWORD = 0xFFFF_FFFF;

/// The Win32 error codes, by their Windows names without `ERROR_`: the library's table,
/// so that the C API and the library report the same numbers, and the codes only the
/// C API reports.
/// NTSTATUS values of the ntdll functions (`ntstatus.h`).
pub(crate) mod status {
    pub(crate) const SUCCESS: i32 = 0;
    pub(crate) const TIMEOUT: i32 = 0x102;
    pub(crate) const UNSUCCESSFUL: i32 = 0xC000_0001_u32 as i32;
    pub(crate) const INVALID_HANDLE: i32 = 0xC000_0008_u32 as i32;
    pub(crate) const INVALID_PARAMETER: i32 = 0xC000_000D_u32 as i32;
    pub(crate) const NO_MEMORY: i32 = 0xC000_0017_u32 as i32;
    pub(crate) const ACCESS_DENIED: i32 = 0xC000_0022_u32 as i32;
    pub(crate) const NOT_SUPPORTED: i32 = 0xC000_00BB_u32 as i32;
    pub(crate) const PARTIAL_COPY: i32 = 0x8000_000D_u32 as i32;
    pub(crate) const INVALID_INFO_CLASS: i32 = 0xC000_0003_u32 as i32;
    pub(crate) const INFO_LENGTH_MISMATCH: i32 = 0xC000_0004_u32 as i32;
    pub(crate) const ACCESS_VIOLATION: i32 = 0xC000_0005_u32 as i32;
    pub(crate) const CONFLICTING_ADDRESSES: i32 = 0xC000_0018_u32 as i32;
    pub(crate) const NOT_MAPPED_VIEW: i32 = 0xC000_0019_u32 as i32;
    pub(crate) const ALREADY_COMMITTED: i32 = 0xC000_0021_u32 as i32;
    pub(crate) const OBJECT_TYPE_MISMATCH: i32 = 0xC000_0024_u32 as i32;
    pub(crate) const NOT_COMMITTED: i32 = 0xC000_002D_u32 as i32;
    pub(crate) const INVALID_PAGE_PROTECTION: i32 = 0xC000_0045_u32 as i32;
    pub(crate) const FREE_VM_NOT_AT_BASE: i32 = 0xC000_009F_u32 as i32;
    pub(crate) const MEMORY_NOT_ALLOCATED: i32 = 0xC000_00A0_u32 as i32;
    pub(crate) const INTERNAL_ERROR: i32 = 0xC000_00E5_u32 as i32;
    pub(crate) const INVALID_PARAMETER_3: i32 = 0xC000_00F1_u32 as i32;
    pub(crate) const PROCESS_IS_TERMINATING: i32 = 0xC000_010A_u32 as i32;
}

pub(crate) mod err {
    pub(crate) use shmkit::code::*;
    pub(crate) const PARTIAL_COPY: u32 = 299;
    pub(crate) const IO_PENDING: u32 = 997;
    pub(crate) const USER_MAPPED_FILE: u32 = 1224;
    pub(crate) const UNKNOWN_REVISION: u32 = 1305;
    pub(crate) const INVALID_OWNER: u32 = 1307;
    pub(crate) const PRIVILEGE_NOT_HELD: u32 = 1314;
    pub(crate) const INVALID_ACL: u32 = 1336;
    pub(crate) const INVALID_SID: u32 = 1337;
    pub(crate) const INVALID_SECURITY_DESCR: u32 = 1338;
    pub(crate) const ALLOTTED_SPACE_EXCEEDED: u32 = 1344;
}

// Page protections (what /proc/self/maps shows, for VirtualQuery; the rest of the
// access model is in `access`).
pub(crate) const PAGE_NOACCESS: DWORD = 0x01;
pub(crate) const PAGE_READONLY: DWORD = 0x02;
pub(crate) const PAGE_READWRITE: DWORD = 0x04;
pub(crate) const PAGE_EXECUTE: DWORD = 0x10;
pub(crate) const PAGE_EXECUTE_READ: DWORD = 0x20;
pub(crate) const PAGE_EXECUTE_READWRITE: DWORD = 0x40;

// Memory states and types (VirtualQuery).
pub(crate) const MEM_COMMIT: DWORD = 0x1000;
pub(crate) const MEM_RESERVE: DWORD = 0x2000;
pub(crate) const MEM_DECOMMIT: DWORD = 0x4000;
pub(crate) const MEM_RELEASE: DWORD = 0x8000;
pub(crate) const MEM_FREE: DWORD = 0x10000;
pub(crate) const MEM_PRIVATE: DWORD = 0x20000;
pub(crate) const MEM_MAPPED: DWORD = 0x40000;

// Files.
pub(crate) const GENERIC_READ: DWORD = 0x8000_0000;
pub(crate) const GENERIC_WRITE: DWORD = 0x4000_0000;
pub(crate) const GENERIC_ALL: DWORD = 0x1000_0000;
pub(crate) const FILE_READ_DATA: DWORD = 0x0001;
pub(crate) const FILE_WRITE_DATA: DWORD = 0x0002;
pub(crate) const FILE_APPEND_DATA: DWORD = 0x0004;
pub(crate) const CREATE_NEW: DWORD = 1;
pub(crate) const CREATE_ALWAYS: DWORD = 2;
pub(crate) const OPEN_EXISTING: DWORD = 3;
pub(crate) const OPEN_ALWAYS: DWORD = 4;
pub(crate) const TRUNCATE_EXISTING: DWORD = 5;
pub(crate) const FILE_FLAG_DELETE_ON_CLOSE: DWORD = 0x0400_0000;
pub(crate) const FILE_BEGIN: DWORD = 0;
pub(crate) const FILE_CURRENT: DWORD = 1;
pub(crate) const FILE_END: DWORD = 2;
pub(crate) const INVALID_SET_FILE_POINTER: DWORD = 0xFFFF_FFFF;
pub(crate) const INVALID_FILE_SIZE: DWORD = 0xFFFF_FFFF;
pub(crate) const STD_INPUT_HANDLE: DWORD = -10i32 as DWORD;
pub(crate) const STD_OUTPUT_HANDLE: DWORD = -11i32 as DWORD;
pub(crate) const STD_ERROR_HANDLE: DWORD = -12i32 as DWORD;

// Handles and waits.
pub(crate) const DUPLICATE_CLOSE_SOURCE: DWORD = 1;
pub(crate) const DUPLICATE_SAME_ACCESS: DWORD = 2;
pub(crate) const HANDLE_FLAG_INHERIT: DWORD = 1;
pub(crate) const HANDLE_FLAG_PROTECT_FROM_CLOSE: DWORD = 2;
pub(crate) const WAIT_OBJECT_0: DWORD = 0;
pub(crate) const WAIT_ABANDONED_0: DWORD = 0x80;
pub(crate) const WAIT_TIMEOUT: DWORD = 258;
pub(crate) const WAIT_FAILED: DWORD = 0xFFFF_FFFF;
pub(crate) const MAXIMUM_WAIT_OBJECTS: DWORD = 64;
pub(crate) const STILL_ACTIVE: DWORD = 259;

// Processes.
pub(crate) const STARTF_USESTDHANDLES: DWORD = 0x100;
pub(crate) const CREATE_SUSPENDED: DWORD = 0x4;
pub(crate) const CREATE_UNICODE_ENVIRONMENT: DWORD = 0x400;

/// `SECURITY_ATTRIBUTES`: only `bInheritHandle` matters here; the security descriptor
/// is not interpreted (objects get the default permissions, owner only).
#[repr(C)]
#[allow(non_snake_case)]
pub struct SECURITY_ATTRIBUTES {
    /// `sizeof(SECURITY_ATTRIBUTES)`.
    pub nLength: DWORD,
    /// Not interpreted.
    pub lpSecurityDescriptor: *mut c_void,
    /// Whether the new handle is inherited by children started with `bInheritHandles`.
    pub bInheritHandle: BOOL,
}

/// Whether a `SECURITY_ATTRIBUTES` asks for an inheritable handle.
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES`.
pub(crate) unsafe fn inheritable(sa: *const SECURITY_ATTRIBUTES) -> bool {
    // SAFETY: NULL is checked; otherwise valid by the caller's contract.
    !sa.is_null() && unsafe { (*sa).bInheritHandle } != 0
}

/// `MEMORY_BASIC_INFORMATION`, as `VirtualQuery` fills it.
#[repr(C)]
#[allow(non_snake_case)]
pub struct MEMORY_BASIC_INFORMATION {
    /// The page that holds the queried address.
    pub BaseAddress: *mut c_void,
    /// The base of the view (or mapping) the address lies in.
    pub AllocationBase: *mut c_void,
    /// The view's protection when it was mapped.
    pub AllocationProtect: DWORD,
    /// Windows' partition id; 0.
    pub PartitionId: u16,
    /// Bytes from `BaseAddress` to the end of the region, in whole pages.
    pub RegionSize: usize,
    /// `MEM_COMMIT` or `MEM_FREE`.
    pub State: DWORD,
    /// The current protection.
    pub Protect: DWORD,
    /// `MEM_MAPPED` for views, `MEM_PRIVATE` for other memory.
    pub Type: DWORD,
}

/// `STARTUPINFOA` / `STARTUPINFOW`: `T` is the string type; only the standard handles
/// (with `STARTF_USESTDHANDLES`) are used.
#[repr(C)]
#[allow(non_snake_case)]
pub struct STARTUPINFO<T> {
    /// `sizeof(STARTUPINFO)`.
    pub cb: DWORD,
    /// Reserved.
    pub lpReserved: *mut T,
    /// Not used.
    pub lpDesktop: *mut T,
    /// Not used.
    pub lpTitle: *mut T,
    /// Not used.
    pub dwX: DWORD,
    /// Not used.
    pub dwY: DWORD,
    /// Not used.
    pub dwXSize: DWORD,
    /// Not used.
    pub dwYSize: DWORD,
    /// Not used.
    pub dwXCountChars: DWORD,
    /// Not used.
    pub dwYCountChars: DWORD,
    /// Not used.
    pub dwFillAttribute: DWORD,
    /// `STARTF_USESTDHANDLES` makes the three handles below the child's standard streams.
    pub dwFlags: DWORD,
    /// Not used.
    pub wShowWindow: u16,
    /// Reserved.
    pub cbReserved2: u16,
    /// Reserved.
    pub lpReserved2: *mut u8,
    /// The child's standard input (a file handle).
    pub hStdInput: HANDLE,
    /// The child's standard output (a file handle).
    pub hStdOutput: HANDLE,
    /// The child's standard error (a file handle).
    pub hStdError: HANDLE,
}

/// `PROCESS_INFORMATION`, filled by `CreateProcess`.
#[repr(C)]
#[allow(non_snake_case)]
pub struct PROCESS_INFORMATION {
    /// A handle to the child process.
    pub hProcess: HANDLE,
    /// A handle to its main thread (waitable: it ends with the process).
    pub hThread: HANDLE,
    /// The child's process id.
    pub dwProcessId: DWORD,
    /// The id of its main thread (the process id on Linux).
    pub dwThreadId: DWORD,
}

/// The system's page size.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}
