//! The Win32 access model: the access a handle is granted (generic rights mapped to each
//! kind's own, `MAXIMUM_ALLOWED`), what that access lets the handle do, and the rules
//! of mappings and views — which page protections and `SEC_*` attributes
//! `CreateFileMapping` accepts, what it needs of the file handle, the page protection
//! `MapViewOfFile` gives a view, what the view needs of the mapping handle and of the
//! mapping's protection, and which protections `VirtualProtect` may give a view's pages.
//!
//! The rules are Windows' wherever a conformance test that runs on Windows records them
//! (the tests of Wine and ReactOS); elsewhere they are those Wine 8 applies (the C API
//! lane compares with Wine). Where Wine 8 departs from the Windows rule adopted here,
//! the function says so, and the fidelity programs list the case in
//! tests/c/fidelity_wine.h. Everything here is pure: no handle table, no system call.

use crate::types::{err, DWORD};

// Standard and generic rights.
pub(crate) const READ_CONTROL: DWORD = 0x0002_0000;
pub(crate) const SYNCHRONIZE: DWORD = 0x0010_0000;
pub(crate) const STANDARD_RIGHTS_REQUIRED: DWORD = 0x000F_0000;
const STANDARD_RIGHTS_READ: DWORD = READ_CONTROL;
const STANDARD_RIGHTS_WRITE: DWORD = READ_CONTROL;
const STANDARD_RIGHTS_EXECUTE: DWORD = READ_CONTROL;
pub(crate) const ACCESS_SYSTEM_SECURITY: DWORD = 0x0100_0000;
pub(crate) const MAXIMUM_ALLOWED: DWORD = 0x0200_0000;
pub(crate) const GENERIC_READ: DWORD = 0x8000_0000;
pub(crate) const GENERIC_WRITE: DWORD = 0x4000_0000;
pub(crate) const GENERIC_EXECUTE: DWORD = 0x2000_0000;
pub(crate) const GENERIC_ALL: DWORD = 0x1000_0000;

// Sections (mapping objects).
pub(crate) const SECTION_QUERY: DWORD = 0x0001;
pub(crate) const SECTION_MAP_WRITE: DWORD = 0x0002;
pub(crate) const SECTION_MAP_READ: DWORD = 0x0004;
pub(crate) const SECTION_MAP_EXECUTE: DWORD = 0x0008;
pub(crate) const SECTION_ALL_ACCESS: DWORD = 0x000F_001F;

// Mutexes, events, semaphores.
pub(crate) const MUTANT_QUERY_STATE: DWORD = 0x0001;
pub(crate) const MUTANT_ALL_ACCESS: DWORD = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x0001;
pub(crate) const EVENT_QUERY_STATE: DWORD = 0x0001;
pub(crate) const EVENT_MODIFY_STATE: DWORD = 0x0002;
pub(crate) const EVENT_ALL_ACCESS: DWORD = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x0003;
pub(crate) const SEMAPHORE_QUERY_STATE: DWORD = 0x0001;
pub(crate) const SEMAPHORE_MODIFY_STATE: DWORD = 0x0002;
pub(crate) const SEMAPHORE_ALL_ACCESS: DWORD = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x0003;
pub(crate) const TIMER_QUERY_STATE: DWORD = 0x0001;
pub(crate) const TIMER_MODIFY_STATE: DWORD = 0x0002;
pub(crate) const TIMER_ALL_ACCESS: DWORD = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x0003;

// Processes and threads.
pub(crate) const PROCESS_ALL_ACCESS: DWORD = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF;
const PROCESS_GENERIC_READ: DWORD = STANDARD_RIGHTS_READ | 0x0010 | 0x0400;
const PROCESS_GENERIC_WRITE: DWORD =
    STANDARD_RIGHTS_WRITE | 0x0002 | 0x0008 | 0x0020 | 0x0040 | 0x0080 | 0x0100 | 0x0200 | 0x0800;
const PROCESS_GENERIC_EXECUTE: DWORD = STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE | 0x1000 | 0x0001;

// Files.
pub(crate) const FILE_READ_DATA: DWORD = 0x0001;
pub(crate) const FILE_WRITE_DATA: DWORD = 0x0002;
pub(crate) const FILE_EXECUTE: DWORD = 0x0020;
pub(crate) const FILE_GENERIC_READ: DWORD = 0x0012_0089;
pub(crate) const FILE_GENERIC_WRITE: DWORD = 0x0012_0116;
pub(crate) const FILE_GENERIC_EXECUTE: DWORD = 0x0012_00A0;
pub(crate) const FILE_ALL_ACCESS: DWORD = 0x001F_01FF;

// Views (MapViewOfFile's dwDesiredAccess).
pub(crate) const FILE_MAP_COPY: DWORD = 0x0001;
pub(crate) const FILE_MAP_WRITE: DWORD = 0x0002;
pub(crate) const FILE_MAP_READ: DWORD = 0x0004;
pub(crate) const FILE_MAP_EXECUTE: DWORD = 0x0020;

// Page protections and their modifiers.
pub(crate) const PAGE_NOACCESS: DWORD = 0x01;
pub(crate) const PAGE_READONLY: DWORD = 0x02;
pub(crate) const PAGE_READWRITE: DWORD = 0x04;
pub(crate) const PAGE_WRITECOPY: DWORD = 0x08;
pub(crate) const PAGE_EXECUTE: DWORD = 0x10;
pub(crate) const PAGE_EXECUTE_READ: DWORD = 0x20;
pub(crate) const PAGE_EXECUTE_READWRITE: DWORD = 0x40;
pub(crate) const PAGE_EXECUTE_WRITECOPY: DWORD = 0x80;
pub(crate) const PAGE_GUARD: DWORD = 0x100;
pub(crate) const PAGE_NOCACHE: DWORD = 0x200;
pub(crate) const PAGE_WRITECOMBINE: DWORD = 0x400;

// Section attributes (CreateFileMapping's flProtect).
pub(crate) const SEC_IMAGE: DWORD = 0x0100_0000;
pub(crate) const SEC_RESERVE: DWORD = 0x0400_0000;
pub(crate) const SEC_COMMIT: DWORD = 0x0800_0000;
pub(crate) const SEC_NOCACHE: DWORD = 0x1000_0000;
pub(crate) const SEC_WRITECOMBINE: DWORD = 0x4000_0000;
pub(crate) const SEC_LARGE_PAGES: DWORD = 0x8000_0000;
const SEC_KNOWN: DWORD =
    SEC_IMAGE | SEC_RESERVE | SEC_COMMIT | SEC_NOCACHE | SEC_WRITECOMBINE | SEC_LARGE_PAGES;

/// The kinds of object, as far as their rights differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Mapping,
    File,
    Mutex,
    Event,
    Semaphore,
    /// A waitable timer.
    Timer,
    /// A process or a thread.
    Process,
}

/// The specific rights each generic right stands for, and every right of the kind.
struct GenericMapping {
    read: DWORD,
    write: DWORD,
    execute: DWORD,
    all: DWORD,
}

const fn generic_mapping(class: Class) -> GenericMapping {
    match class {
        Class::Mapping => GenericMapping {
            read: STANDARD_RIGHTS_READ | SECTION_QUERY | SECTION_MAP_READ,
            write: STANDARD_RIGHTS_WRITE | SECTION_MAP_WRITE,
            execute: STANDARD_RIGHTS_EXECUTE | SECTION_MAP_EXECUTE,
            all: SECTION_ALL_ACCESS,
        },
        Class::File => GenericMapping {
            read: FILE_GENERIC_READ,
            write: FILE_GENERIC_WRITE,
            execute: FILE_GENERIC_EXECUTE,
            all: FILE_ALL_ACCESS,
        },
        Class::Mutex => GenericMapping {
            read: STANDARD_RIGHTS_READ | MUTANT_QUERY_STATE,
            write: STANDARD_RIGHTS_WRITE,
            execute: STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
            all: MUTANT_ALL_ACCESS,
        },
        Class::Event => GenericMapping {
            read: STANDARD_RIGHTS_READ | EVENT_QUERY_STATE,
            write: STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE,
            execute: STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
            all: EVENT_ALL_ACCESS,
        },
        Class::Semaphore => GenericMapping {
            read: STANDARD_RIGHTS_READ | SEMAPHORE_QUERY_STATE,
            write: STANDARD_RIGHTS_WRITE | SEMAPHORE_MODIFY_STATE,
            execute: STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
            all: SEMAPHORE_ALL_ACCESS,
        },
        Class::Timer => GenericMapping {
            read: STANDARD_RIGHTS_READ | TIMER_QUERY_STATE,
            write: STANDARD_RIGHTS_WRITE | TIMER_MODIFY_STATE,
            execute: STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
            all: TIMER_ALL_ACCESS,
        },
        Class::Process => GenericMapping {
            read: PROCESS_GENERIC_READ,
            write: PROCESS_GENERIC_WRITE,
            execute: PROCESS_GENERIC_EXECUTE,
            all: PROCESS_ALL_ACCESS,
        },
    }
}

/// Every right of the kind: what a created object's handle is granted.
pub(crate) const fn all(class: Class) -> DWORD {
    generic_mapping(class).all
}

/// The access a handle asked for `desired` is granted: generic rights become the kind's
/// own, `MAXIMUM_ALLOWED` every right; other bits are kept. The caller owns every object
/// it can name, so nothing asked for is refused (as for an object with the default
/// security of its creator; DuplicateHandle may widen a handle's access).
pub(crate) const fn granted(class: Class, desired: DWORD) -> DWORD {
    let g = generic_mapping(class);
    let mut a = desired & !(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
    if desired & MAXIMUM_ALLOWED != 0 {
        a = (a & !MAXIMUM_ALLOWED) | g.all;
    }
    if desired & GENERIC_READ != 0 {
        a |= g.read;
    }
    if desired & GENERIC_WRITE != 0 {
        a |= g.write;
    }
    if desired & GENERIC_EXECUTE != 0 {
        a |= g.execute;
    }
    if desired & GENERIC_ALL != 0 {
        a |= g.all;
    }
    a
}

/// Why opening an object of `class` by name for `desired` access is refused, if it is.
///
/// A mutex, an event or a semaphore, as Windows opens one (its object manager checks the
/// access against the kind's rights before anything else): access 0 is
/// `ERROR_ACCESS_DENIED`, and so is any right the kind does not have (every bit but its
/// specific rights, the standard rights, `MAXIMUM_ALLOWED` and the generic rights);
/// `ACCESS_SYSTEM_SECURITY` is `ERROR_PRIVILEGE_NOT_HELD`. Wine 8 opens every one of
/// these. (Wine's conformance test of mutexes records Windows' answers for each bit.)
///
/// Mappings are opened for any access, 0 included, as Wine does.
pub(crate) const fn open_refused(class: Class, desired: DWORD) -> Option<DWORD> {
    const GENERIC: DWORD =
        MAXIMUM_ALLOWED | GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL;
    let all = match class {
        Class::Mutex => MUTANT_ALL_ACCESS,
        Class::Event => EVENT_ALL_ACCESS,
        Class::Semaphore => SEMAPHORE_ALL_ACCESS,
        Class::Timer => TIMER_ALL_ACCESS,
        _ => return None,
    };
    if desired & ACCESS_SYSTEM_SECURITY != 0 {
        Some(err::PRIVILEGE_NOT_HELD)
    } else if desired == 0 || desired & !(all | GENERIC) != 0 {
        Some(err::ACCESS_DENIED)
    } else {
        None
    }
}

/// The access of a file handle from `CreateFile`'s `dwDesiredAccess`.
pub(crate) const fn file_access(desired: DWORD) -> DWORD {
    granted(Class::File, desired)
}

/// Why a wait on a handle of `class` with `access` is refused, if it is:
/// `ERROR_ACCESS_DENIED` without `SYNCHRONIZE`; a mapping is no waitable object at all,
/// which Windows reports as `ERROR_INVALID_HANDLE` once the handle has `SYNCHRONIZE`.
pub(crate) const fn wait_refused(class: Class, access: DWORD) -> Option<DWORD> {
    if access & SYNCHRONIZE == 0 {
        Some(err::ACCESS_DENIED)
    } else if matches!(class, Class::Mapping) {
        Some(err::INVALID_HANDLE)
    } else {
        None
    }
}

/// Whether `SetEvent`/`ResetEvent` (event) or `ReleaseSemaphore` (semaphore) may change
/// the object's state through a handle with `access`: the kind's `*_MODIFY_STATE` right.
/// `ReleaseMutex` needs no right at all (the calling thread's ownership is what counts),
/// as in Wine; other kinds are never modified this way.
pub(crate) const fn may_modify(class: Class, access: DWORD) -> bool {
    match class {
        Class::Event => access & EVENT_MODIFY_STATE != 0,
        Class::Semaphore => access & SEMAPHORE_MODIFY_STATE != 0,
        Class::Timer => access & TIMER_MODIFY_STATE != 0,
        Class::Mutex => true,
        _ => false,
    }
}

/// The access of a handle `OpenFileMapping` opens with `desired`: `FILE_MAP_COPY` alone
/// stands for `SECTION_MAP_READ` (Wine's kernelbase and Windows alike), other values
/// are granted as asked. Access 0 is granted too (Wine; the handle then maps no view).
pub(crate) const fn open_mapping_access(desired: DWORD) -> DWORD {
    if desired == FILE_MAP_COPY {
        SECTION_MAP_READ
    } else {
        granted(Class::Mapping, desired)
    }
}

/// A base page protection (without modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    NoAccess,
    ReadOnly,
    ReadWrite,
    WriteCopy,
    Execute,
    ExecuteRead,
    ExecuteReadWrite,
    ExecuteWriteCopy,
}

impl Page {
    const ALL: [Page; 8] = [
        Page::NoAccess,
        Page::ReadOnly,
        Page::ReadWrite,
        Page::WriteCopy,
        Page::Execute,
        Page::ExecuteRead,
        Page::ExecuteReadWrite,
        Page::ExecuteWriteCopy,
    ];

    /// The `PAGE_*` value.
    pub(crate) const fn value(self) -> DWORD {
        match self {
            Page::NoAccess => PAGE_NOACCESS,
            Page::ReadOnly => PAGE_READONLY,
            Page::ReadWrite => PAGE_READWRITE,
            Page::WriteCopy => PAGE_WRITECOPY,
            Page::Execute => PAGE_EXECUTE,
            Page::ExecuteRead => PAGE_EXECUTE_READ,
            Page::ExecuteReadWrite => PAGE_EXECUTE_READWRITE,
            Page::ExecuteWriteCopy => PAGE_EXECUTE_WRITECOPY,
        }
    }

    /// The protection of exactly one `PAGE_*` base value (no modifier).
    pub(crate) fn from_value(value: DWORD) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.value() == value)
    }

    /// Whether pages with this protection can be read.
    pub(crate) const fn reads(self) -> bool {
        !matches!(self, Page::NoAccess | Page::Execute)
    }

    /// Whether writes reach the object (and every other view of it).
    pub(crate) const fn writes_shared(self) -> bool {
        matches!(self, Page::ReadWrite | Page::ExecuteReadWrite)
    }

    /// Whether writes stay private to the view (copy-on-write).
    pub(crate) const fn copies(self) -> bool {
        matches!(self, Page::WriteCopy | Page::ExecuteWriteCopy)
    }

    /// Whether code may run from the pages.
    pub(crate) const fn executes(self) -> bool {
        matches!(
            self,
            Page::Execute | Page::ExecuteRead | Page::ExecuteReadWrite | Page::ExecuteWriteCopy
        )
    }
}

/// What `CreateFileMapping`'s `flProtect` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Section {
    /// The mapping's page protection: read-only, read-write, write-copy or their
    /// execute forms.
    pub page: Page,
    /// `SEC_RESERVE`: a view's pages are reserved until `VirtualAlloc` commits them
    /// (memory-backed mappings; a file-backed one is always committed).
    pub reserve: bool,
    /// `SEC_NOCACHE`: views report `PAGE_NOCACHE` with their protection.
    pub nocache: bool,
    /// `SEC_IMAGE`: the file is an executable image to map as the loader would.
    pub image: bool,
}

/// Parses `CreateFileMapping`'s `flProtect` for a file-backed (`file`) or memory-backed
/// mapping; `ERROR_INVALID_PARAMETER` for what Wine refuses:
/// - a protection other than exactly one of `PAGE_READONLY`, `PAGE_READWRITE`,
///   `PAGE_WRITECOPY`, `PAGE_EXECUTE_READ`, `PAGE_EXECUTE_READWRITE`,
///   `PAGE_EXECUTE_WRITECOPY` (so 0, `PAGE_NOACCESS`, `PAGE_EXECUTE`, two at once, and any
///   modifier — `PAGE_GUARD`, `PAGE_NOCACHE`, `PAGE_WRITECOMBINE` — are refused), or an
///   unknown bit;
/// - `SEC_IMAGE` with `SEC_COMMIT`, `SEC_RESERVE`, `SEC_LARGE_PAGES` or
///   `SEC_WRITECOMBINE`;
/// - otherwise attributes without exactly one of `SEC_COMMIT` and `SEC_RESERVE` (none
///   at all means `SEC_COMMIT`): `SEC_COMMIT|SEC_RESERVE`, `SEC_NOCACHE` or
///   `SEC_WRITECOMBINE` or `SEC_LARGE_PAGES` alone;
/// - `SEC_LARGE_PAGES` without `SEC_COMMIT`, or over a file.
///
/// Wine accepts `SEC_LARGE_PAGES|SEC_COMMIT` over memory without checking the caller's
/// `SeLockMemoryPrivilege` (Windows fails it with `ERROR_PRIVILEGE_NOT_HELD` for most
/// callers) and ignores `SEC_WRITECOMBINE`; so does this library.
pub(crate) fn parse_section(fl_protect: DWORD, file: bool) -> Result<Section, DWORD> {
    let sec = fl_protect & SEC_KNOWN;
    let page = match Page::from_value(fl_protect & !SEC_KNOWN) {
        Some(Page::NoAccess | Page::Execute) | None => return Err(err::INVALID_PARAMETER),
        Some(page) => page,
    };
    let commit = sec & SEC_COMMIT != 0;
    let reserve = sec & SEC_RESERVE != 0;
    let large = sec & SEC_LARGE_PAGES != 0;
    let image = sec & SEC_IMAGE != 0;
    let valid = if image {
        !commit && !reserve && !large && sec & SEC_WRITECOMBINE == 0
    } else {
        sec == 0 || (commit != reserve && (!large || (commit && !file)))
    };
    if !valid {
        return Err(err::INVALID_PARAMETER);
    }
    Ok(Section {
        page,
        reserve: reserve && !file,
        nocache: sec & SEC_NOCACHE != 0,
        image,
    })
}

/// What `CreateFileMapping` needs of the file handle's access: `FILE_READ_DATA` for
/// every mapping, `FILE_WRITE_DATA` too for a read-write one and `FILE_EXECUTE` too for
/// an executable one (not for an image), else `ERROR_ACCESS_DENIED`, as Windows checks
/// it. Wine 8 asks for no `FILE_EXECUTE`.
pub(crate) const fn file_rights_needed(section: &Section) -> DWORD {
    let mut needed = FILE_READ_DATA;
    if section.page.writes_shared() && !section.image {
        needed |= FILE_WRITE_DATA;
    }
    if section.page.executes() && !section.image {
        needed |= FILE_EXECUTE;
    }
    needed
}

/// The access a handle from `CreateFileMapping` is granted for a mapping of `page`
/// protection (as Wine's kernelbase asks for it): querying and reading always, writing
/// when the mapping is read-write, executing when it is executable.
pub(crate) const fn created_mapping_access(page: Page) -> DWORD {
    let mut a = STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | SECTION_MAP_READ;
    if page.writes_shared() {
        a |= SECTION_MAP_WRITE;
    }
    if page.executes() {
        a |= SECTION_MAP_EXECUTE;
    }
    a
}

/// The page protection of a view `MapViewOfFile` maps with `desired` (Wine's kernelbase,
/// as Windows): `FILE_MAP_EXECUTE` adds execute to what the rest asks; exactly
/// `FILE_MAP_COPY` is write-copy; otherwise `FILE_MAP_WRITE` read-write, `FILE_MAP_READ`
/// read-only, and nothing of these `PAGE_NOACCESS` (a view that maps but cannot be
/// touched). Other bits are ignored — Wine refuses no value.
pub(crate) const fn view_page(desired: DWORD) -> Page {
    let exec = desired & FILE_MAP_EXECUTE != 0;
    let rest = desired & !FILE_MAP_EXECUTE;
    match (rest, exec) {
        (FILE_MAP_COPY, false) => Page::WriteCopy,
        (FILE_MAP_COPY, true) => Page::ExecuteWriteCopy,
        _ if rest & FILE_MAP_WRITE != 0 && exec => Page::ExecuteReadWrite,
        _ if rest & FILE_MAP_WRITE != 0 => Page::ReadWrite,
        _ if rest & FILE_MAP_READ != 0 && exec => Page::ExecuteRead,
        _ if rest & FILE_MAP_READ != 0 => Page::ReadOnly,
        _ => Page::NoAccess,
    }
}

/// The rights a mapping handle needs to map a view of `page` protection:
/// `SECTION_MAP_WRITE` for read-write views, `SECTION_MAP_READ` for the others (no-access
/// views included), and `SECTION_MAP_EXECUTE` too for executable ones.
pub(crate) const fn view_rights_needed(page: Page) -> DWORD {
    let base = if page.writes_shared() {
        SECTION_MAP_WRITE
    } else {
        SECTION_MAP_READ
    };
    if page.executes() {
        base | SECTION_MAP_EXECUTE
    } else {
        base
    }
}

/// `MapViewOfFile`'s check, as Windows makes it: the protection of a view asked for
/// with `desired` through a handle with `access` of a mapping of `mapping` protection
/// (`None` when this process does not know it: a mapping another process made, opened
/// by name; its views are checked against the handle's rights only).
/// `ERROR_ACCESS_DENIED` when the handle lacks a right the view needs; then
/// `ERROR_INVALID_PARAMETER` (`STATUS_SECTION_PROTECTION`) when the mapping's protection
/// does not allow the view: write through a read-only or write-copy mapping, execute
/// through one that is not executable (a handle opened or duplicated with more rights
/// than its mapping's protection gives). Wine 8 checks the handle's rights only and maps
/// those views.
pub(crate) fn check_view(
    desired: DWORD,
    access: DWORD,
    mapping: Option<Page>,
) -> Result<Page, DWORD> {
    let page = view_page(desired);
    let needed = view_rights_needed(page);
    if access & needed != needed {
        return Err(err::ACCESS_DENIED);
    }
    if let Some(mapping) = mapping {
        if !section_allows(mapping, page) {
            return Err(err::INVALID_PARAMETER);
        }
    }
    Ok(page)
}

/// Whether a mapping of `mapping` protection admits a view of `view` protection: what
/// the view may do (read, write through to the object, execute; write-copy counts as
/// read) the mapping may do too.
pub(crate) const fn section_allows(mapping: Page, view: Page) -> bool {
    let (m, v) = (abilities(mapping), abilities(view));
    m & v == v
}

/// The `Protect` a view of `page` reports, with its modifiers (`PAGE_NOCACHE` for a
/// `SEC_NOCACHE` mapping).
pub(crate) const fn reported(page: Page, nocache: bool) -> DWORD {
    page.value() | if nocache { PAGE_NOCACHE } else { 0 }
}

/// What a protection lets a page do, for [`may_protect`] and [`section_allows`]: read,
/// write through, write privately, execute.
const fn abilities(page: Page) -> u8 {
    const R: u8 = 1;
    const W: u8 = 2;
    const X: u8 = 4;
    match page {
        Page::NoAccess => 0,
        Page::ReadOnly | Page::WriteCopy => R,
        Page::ReadWrite => R | W,
        Page::Execute | Page::ExecuteRead => R | X,
        Page::ExecuteReadWrite => R | W | X,
        // Write-copy counts as read, as PAGE_WRITECOPY does (Wine; Windows' own rule,
        // as Wine's tests spell it, has execute-write-copy between the two).
        Page::ExecuteWriteCopy => R | X,
    }
}

/// Whether `VirtualProtect` may give `new` to pages of a view mapped with `view`
/// protection of a mapping of `mapping` protection (the rule of Wine's tests, with
/// write-copy counted as read): the view's own protection always; nothing else on a
/// no-access view; otherwise what the view allows and the mapping allows too.
pub(crate) const fn may_protect(mapping: Page, view: Page, new: Page) -> bool {
    let (m, v, n) = (abilities(mapping), abilities(view), abilities(new));
    if v == n {
        return true;
    }
    if v == 0 {
        return false;
    }
    v & n == n && m & n == n
}

/// Whether `VirtualAlloc(MEM_COMMIT)` may give `new` to pages of a view mapped with
/// `view` protection: what the view itself allows (Wine).
pub(crate) const fn may_commit(view: Page, new: Page) -> bool {
    let (v, n) = (abilities(view), abilities(new));
    v & n == n
}

/// The protection pages keep and report after `VirtualAlloc`/`VirtualProtect` gave them
/// `value` in a view mapped with `alloc_protect` (its `AllocationProtect`): `PAGE_GUARD`
/// stays; `PAGE_NOCACHE` and `PAGE_WRITECOMBINE` are the view's, not the page's: those
/// of `alloc_protect` stay (a `SEC_NOCACHE` view's pages keep reporting `PAGE_NOCACHE`),
/// those asked for are dropped, as recent Windows does.
pub(crate) const fn kept(value: DWORD, alloc_protect: DWORD) -> DWORD {
    const CACHE: DWORD = PAGE_NOCACHE | PAGE_WRITECOMBINE;
    (value & !CACHE) | (alloc_protect & CACHE)
}

/// What a page of `protect` reports once it was written: a write-copy page that was
/// written holds a private copy and reports `PAGE_READWRITE` (`PAGE_EXECUTE_READWRITE`
/// for execute-write-copy), as on Windows; Wine 8 keeps reporting write-copy.
pub(crate) const fn written(protect: DWORD) -> DWORD {
    let modifiers = protect & !0xFF;
    match protect & 0xFF {
        PAGE_WRITECOPY => PAGE_READWRITE | modifiers,
        PAGE_EXECUTE_WRITECOPY => PAGE_EXECUTE_READWRITE | modifiers,
        _ => protect,
    }
}

/// Parses a `VirtualProtect`/`VirtualAlloc` page protection: one base protection,
/// optionally with one of `PAGE_NOCACHE`/`PAGE_WRITECOMBINE` and `PAGE_GUARD`;
/// `ERROR_INVALID_PARAMETER` otherwise. Returns the base and the modifiers.
pub(crate) fn parse_page(value: DWORD) -> Result<(Page, DWORD), DWORD> {
    let modifiers = value & (PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE);
    let page = Page::from_value(value & !modifiers).ok_or(err::INVALID_PARAMETER)?;
    if modifiers & PAGE_NOCACHE != 0 && modifiers & PAGE_WRITECOMBINE != 0 {
        return Err(err::INVALID_PARAMETER);
    }
    Ok((page, modifiers))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGES: [DWORD; 6] = [
        PAGE_READONLY,
        PAGE_READWRITE,
        PAGE_WRITECOPY,
        PAGE_EXECUTE_READ,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_WRITECOPY,
    ];

    #[test]
    fn generic_rights_become_the_kinds_own() {
        assert_eq!(granted(Class::Mutex, GENERIC_READ) & SYNCHRONIZE, 0);
        assert_ne!(granted(Class::Mutex, GENERIC_EXECUTE) & SYNCHRONIZE, 0);
        assert_eq!(
            granted(Class::Event, GENERIC_WRITE) & EVENT_MODIFY_STATE,
            EVENT_MODIFY_STATE
        );
        assert_eq!(granted(Class::Event, GENERIC_READ) & EVENT_MODIFY_STATE, 0);
        assert_eq!(granted(Class::Semaphore, GENERIC_ALL), SEMAPHORE_ALL_ACCESS);
        assert_eq!(granted(Class::Mutex, MAXIMUM_ALLOWED), MUTANT_ALL_ACCESS);
        assert_eq!(granted(Class::Mapping, MAXIMUM_ALLOWED), SECTION_ALL_ACCESS);
        assert_eq!(granted(Class::Mapping, GENERIC_READ), READ_CONTROL | 0x5);
        assert_eq!(
            granted(Class::Mapping, 0x40 | GENERIC_WRITE),
            0x40 | READ_CONTROL | 0x2
        );
        assert_eq!(file_access(GENERIC_READ) & FILE_READ_DATA, FILE_READ_DATA);
        assert_eq!(file_access(GENERIC_EXECUTE) & FILE_READ_DATA, 0);
        assert_eq!(file_access(GENERIC_ALL), FILE_ALL_ACCESS);
        assert_eq!(granted(Class::Process, GENERIC_READ) & SYNCHRONIZE, 0);
        assert_ne!(granted(Class::Process, GENERIC_EXECUTE) & SYNCHRONIZE, 0);
    }

    #[test]
    fn waits_need_synchronize_and_a_waitable_kind() {
        assert_eq!(wait_refused(Class::Mutex, 0), Some(err::ACCESS_DENIED));
        assert_eq!(wait_refused(Class::Event, SYNCHRONIZE), None);
        assert_eq!(
            wait_refused(Class::Mapping, SECTION_ALL_ACCESS),
            Some(err::ACCESS_DENIED)
        );
        assert_eq!(
            wait_refused(Class::Mapping, SYNCHRONIZE),
            Some(err::INVALID_HANDLE)
        );
        assert!(may_modify(Class::Mutex, 0));
        assert!(!may_modify(Class::Event, SYNCHRONIZE | EVENT_QUERY_STATE));
        assert!(may_modify(Class::Semaphore, SEMAPHORE_MODIFY_STATE));
    }

    #[test]
    fn a_mutex_opens_only_for_its_own_rights() {
        // The rights test_mutex (Wine's kernel32 sync.c) opens one by one on Windows.
        let mut failed = 0u32;
        for i in 0..32 {
            if open_refused(Class::Mutex, 1 << i).is_some() {
                failed |= 1 << i;
            }
        }
        assert_eq!(failed, 0x0de0_fffe);
        assert_eq!(open_refused(Class::Mutex, 0), Some(err::ACCESS_DENIED));
        assert_eq!(
            open_refused(Class::Mutex, ACCESS_SYSTEM_SECURITY),
            Some(err::PRIVILEGE_NOT_HELD)
        );
        assert_eq!(
            open_refused(Class::Mutex, SYNCHRONIZE | EVENT_MODIFY_STATE),
            Some(err::ACCESS_DENIED)
        );
        assert_eq!(open_refused(Class::Mutex, MUTANT_ALL_ACCESS), None);
        assert_eq!(
            open_refused(Class::Mutex, GENERIC_READ | GENERIC_WRITE),
            None
        );
        assert_eq!(open_refused(Class::Mutex, MAXIMUM_ALLOWED), None);
        // Events and semaphores by the same rule, with their own rights.
        assert_eq!(open_refused(Class::Event, 0), Some(err::ACCESS_DENIED));
        assert_eq!(open_refused(Class::Event, EVENT_ALL_ACCESS), None);
        assert_eq!(open_refused(Class::Event, EVENT_MODIFY_STATE), None);
        assert_eq!(
            open_refused(Class::Semaphore, 0x4),
            Some(err::ACCESS_DENIED)
        );
        assert_eq!(open_refused(Class::Semaphore, SEMAPHORE_MODIFY_STATE), None);
        assert_eq!(
            open_refused(Class::Semaphore, ACCESS_SYSTEM_SECURITY | SYNCHRONIZE),
            Some(err::PRIVILEGE_NOT_HELD)
        );
        // Mappings: as Wine, any access.
        assert_eq!(open_refused(Class::Mapping, 0), None);
    }

    #[test]
    fn create_takes_one_protection_and_commit_or_reserve() {
        for p in PAGES {
            for sec in [
                0,
                SEC_COMMIT,
                SEC_RESERVE,
                SEC_COMMIT | SEC_NOCACHE,
                SEC_RESERVE | SEC_WRITECOMBINE,
            ] {
                assert!(parse_section(p | sec, false).is_ok(), "{p:#x} {sec:#x}");
            }
            for sec in [
                SEC_COMMIT | SEC_RESERVE,
                SEC_NOCACHE,
                SEC_WRITECOMBINE,
                SEC_LARGE_PAGES,
                SEC_RESERVE | SEC_LARGE_PAGES,
                SEC_IMAGE | SEC_COMMIT,
                SEC_IMAGE | SEC_RESERVE,
                SEC_IMAGE | SEC_WRITECOMBINE,
                SEC_IMAGE | SEC_LARGE_PAGES,
                0x0080_0000,
                0x0010_0000,
                0x2000_0000,
            ] {
                assert_eq!(
                    parse_section(p | sec, false),
                    Err(err::INVALID_PARAMETER),
                    "{p:#x} {sec:#x}"
                );
            }
            assert!(parse_section(p | SEC_COMMIT | SEC_LARGE_PAGES, false).is_ok());
            assert!(parse_section(p | SEC_COMMIT | SEC_LARGE_PAGES, true).is_err());
            assert!(
                parse_section(p | SEC_IMAGE | SEC_NOCACHE, true)
                    .unwrap()
                    .image
            );
            assert!(!parse_section(p | SEC_RESERVE, true).unwrap().reserve);
            assert!(parse_section(p | SEC_RESERVE, false).unwrap().reserve);
        }
        for p in [
            0,
            PAGE_NOACCESS,
            PAGE_EXECUTE,
            PAGE_READONLY | PAGE_READWRITE,
            PAGE_READWRITE | PAGE_GUARD,
            PAGE_READWRITE | PAGE_NOCACHE,
            PAGE_READWRITE | PAGE_WRITECOMBINE,
            0x800 | PAGE_READONLY,
        ] {
            assert_eq!(
                parse_section(p, false),
                Err(err::INVALID_PARAMETER),
                "{p:#x}"
            );
        }
    }

    #[test]
    fn file_rights_follow_the_protection() {
        let needs = |p: DWORD| file_rights_needed(&parse_section(p, true).unwrap());
        assert_eq!(needs(PAGE_READONLY), FILE_READ_DATA);
        assert_eq!(needs(PAGE_WRITECOPY), FILE_READ_DATA);
        assert_eq!(needs(PAGE_EXECUTE_READ), FILE_READ_DATA | FILE_EXECUTE);
        assert_eq!(needs(PAGE_EXECUTE_WRITECOPY), FILE_READ_DATA | FILE_EXECUTE);
        assert_eq!(
            needs(PAGE_EXECUTE_READWRITE),
            FILE_READ_DATA | FILE_WRITE_DATA | FILE_EXECUTE
        );
        assert_eq!(needs(PAGE_READWRITE | SEC_IMAGE), FILE_READ_DATA);
        assert_eq!(needs(PAGE_EXECUTE_READ | SEC_IMAGE), FILE_READ_DATA);
        // A file opened for reading maps no execute protection (FILE_GENERIC_READ has
        // no FILE_EXECUTE); with GENERIC_EXECUTE too it does.
        let read = file_access(GENERIC_READ);
        assert_ne!(read & needs(PAGE_EXECUTE_READ), needs(PAGE_EXECUTE_READ));
        let read_exec = file_access(GENERIC_READ | GENERIC_EXECUTE);
        assert_eq!(
            read_exec & needs(PAGE_EXECUTE_READ),
            needs(PAGE_EXECUTE_READ)
        );
    }

    #[test]
    fn view_access_gives_the_protection_wine_gives() {
        assert_eq!(view_page(0), Page::NoAccess);
        assert_eq!(view_page(FILE_MAP_COPY), Page::WriteCopy);
        assert_eq!(view_page(FILE_MAP_COPY | FILE_MAP_READ), Page::ReadOnly);
        assert_eq!(view_page(FILE_MAP_COPY | FILE_MAP_WRITE), Page::ReadWrite);
        assert_eq!(view_page(SECTION_ALL_ACCESS), Page::ReadWrite);
        assert_eq!(view_page(FILE_MAP_EXECUTE), Page::NoAccess);
        assert_eq!(
            view_page(FILE_MAP_EXECUTE | FILE_MAP_COPY),
            Page::ExecuteWriteCopy
        );
        assert_eq!(
            view_page(FILE_MAP_EXECUTE | FILE_MAP_READ),
            Page::ExecuteRead
        );
        assert_eq!(
            view_page(SECTION_MAP_EXECUTE | FILE_MAP_READ),
            Page::ReadOnly
        );
        assert_eq!(view_page(0x8000_0000 | FILE_MAP_READ), Page::ReadOnly);
    }

    #[test]
    fn views_need_the_handles_rights() {
        assert_eq!(
            check_view(FILE_MAP_WRITE, SECTION_MAP_WRITE, None),
            Ok(Page::ReadWrite)
        );
        assert_eq!(
            check_view(FILE_MAP_READ, SECTION_MAP_WRITE, None),
            Err(err::ACCESS_DENIED)
        );
        assert_eq!(
            check_view(0, SECTION_MAP_WRITE, None),
            Err(err::ACCESS_DENIED)
        );
        assert_eq!(check_view(0, SECTION_MAP_READ, None), Ok(Page::NoAccess));
        assert_eq!(
            check_view(FILE_MAP_WRITE, SECTION_MAP_READ, None),
            Err(err::ACCESS_DENIED)
        );
        assert_eq!(
            check_view(FILE_MAP_COPY, SECTION_QUERY, None),
            Err(err::ACCESS_DENIED)
        );
        assert_eq!(
            check_view(FILE_MAP_COPY, SECTION_MAP_READ, None),
            Ok(Page::WriteCopy)
        );
        let rw = SECTION_MAP_READ | SECTION_MAP_WRITE;
        assert_eq!(
            check_view(FILE_MAP_READ | FILE_MAP_EXECUTE, rw, None),
            Err(err::ACCESS_DENIED)
        );
        assert_eq!(
            check_view(
                FILE_MAP_READ | FILE_MAP_EXECUTE,
                SECTION_MAP_READ | SECTION_MAP_EXECUTE,
                None
            ),
            Ok(Page::ExecuteRead)
        );
        assert_eq!(
            check_view(
                FILE_MAP_WRITE | FILE_MAP_EXECUTE,
                SECTION_MAP_READ | SECTION_MAP_EXECUTE,
                None
            ),
            Err(err::ACCESS_DENIED)
        );
        // What a created handle may map follows the mapping's protection.
        let ro = created_mapping_access(Page::ReadOnly);
        assert_eq!(
            check_view(FILE_MAP_WRITE, ro, Some(Page::ReadOnly)),
            Err(err::ACCESS_DENIED)
        );
        assert_eq!(
            check_view(FILE_MAP_COPY, ro, Some(Page::ReadOnly)),
            Ok(Page::WriteCopy)
        );
        let xr = created_mapping_access(Page::ExecuteRead);
        assert_eq!(
            check_view(
                FILE_MAP_COPY | FILE_MAP_EXECUTE,
                xr,
                Some(Page::ExecuteRead)
            ),
            Ok(Page::ExecuteWriteCopy)
        );
        assert_eq!(
            check_view(
                FILE_MAP_READ | FILE_MAP_EXECUTE,
                created_mapping_access(Page::ReadWrite),
                None
            ),
            Err(err::ACCESS_DENIED)
        );
        assert_eq!(open_mapping_access(FILE_MAP_COPY), SECTION_MAP_READ);
        assert_eq!(open_mapping_access(0), 0);
        assert_eq!(
            reported(Page::ReadWrite, true),
            PAGE_READWRITE | PAGE_NOCACHE
        );
    }

    #[test]
    fn views_stay_within_the_mappings_protection() {
        // A handle with every right (duplicated or opened so) of a mapping whose
        // protection does not allow the view: STATUS_SECTION_PROTECTION, 87.
        let all = SECTION_ALL_ACCESS;
        let ro = Some(Page::ReadOnly);
        assert_eq!(
            check_view(FILE_MAP_WRITE, all, ro),
            Err(err::INVALID_PARAMETER)
        );
        assert_eq!(
            check_view(FILE_MAP_READ | FILE_MAP_EXECUTE, all, ro),
            Err(err::INVALID_PARAMETER)
        );
        assert_eq!(check_view(FILE_MAP_COPY, all, ro), Ok(Page::WriteCopy));
        assert_eq!(check_view(FILE_MAP_READ, all, ro), Ok(Page::ReadOnly));
        assert_eq!(check_view(0, all, ro), Ok(Page::NoAccess));
        assert_eq!(
            check_view(FILE_MAP_WRITE, all, Some(Page::WriteCopy)),
            Err(err::INVALID_PARAMETER)
        );
        assert_eq!(
            check_view(FILE_MAP_COPY | FILE_MAP_EXECUTE, all, Some(Page::ReadWrite)),
            Err(err::INVALID_PARAMETER)
        );
        assert_eq!(
            check_view(
                FILE_MAP_WRITE | FILE_MAP_EXECUTE,
                all,
                Some(Page::ExecuteReadWrite)
            ),
            Ok(Page::ExecuteReadWrite)
        );
        assert_eq!(
            check_view(FILE_MAP_WRITE, all, Some(Page::ExecuteWriteCopy)),
            Err(err::INVALID_PARAMETER)
        );
        // The handle's rights are checked first.
        assert_eq!(
            check_view(FILE_MAP_WRITE, SECTION_MAP_READ, ro),
            Err(err::ACCESS_DENIED)
        );
        // Unknown protection: the handle's rights only.
        assert_eq!(check_view(FILE_MAP_WRITE, all, None), Ok(Page::ReadWrite));
    }

    #[test]
    fn cache_modifiers_are_the_views_and_written_copies_read_write() {
        assert_eq!(kept(PAGE_READONLY, PAGE_READWRITE), PAGE_READONLY);
        assert_eq!(
            kept(PAGE_READONLY | PAGE_NOCACHE, PAGE_READWRITE),
            PAGE_READONLY
        );
        assert_eq!(
            kept(PAGE_READONLY, PAGE_READWRITE | PAGE_NOCACHE),
            PAGE_READONLY | PAGE_NOCACHE
        );
        assert_eq!(
            kept(
                PAGE_READWRITE | PAGE_GUARD | PAGE_WRITECOMBINE,
                PAGE_READWRITE
            ),
            PAGE_READWRITE | PAGE_GUARD
        );
        assert_eq!(written(PAGE_WRITECOPY), PAGE_READWRITE);
        assert_eq!(written(PAGE_EXECUTE_WRITECOPY), PAGE_EXECUTE_READWRITE);
        assert_eq!(
            written(PAGE_WRITECOPY | PAGE_NOCACHE),
            PAGE_READWRITE | PAGE_NOCACHE
        );
        assert_eq!(written(PAGE_READONLY), PAGE_READONLY);
    }

    #[test]
    fn virtual_protect_stays_within_the_view_and_the_mapping() {
        assert!(may_protect(
            Page::ReadWrite,
            Page::ReadWrite,
            Page::ReadOnly
        ));
        assert!(may_protect(
            Page::ReadWrite,
            Page::ReadWrite,
            Page::NoAccess
        ));
        assert!(!may_protect(
            Page::ReadWrite,
            Page::ReadOnly,
            Page::ReadWrite
        ));
        assert!(!may_protect(
            Page::ReadWrite,
            Page::NoAccess,
            Page::ReadOnly
        ));
        assert!(!may_protect(
            Page::ReadWrite,
            Page::ReadWrite,
            Page::ExecuteRead
        ));
        assert!(may_protect(
            Page::ExecuteReadWrite,
            Page::ExecuteReadWrite,
            Page::ExecuteRead
        ));
        assert!(may_protect(Page::ReadOnly, Page::ReadOnly, Page::WriteCopy));
        assert!(may_protect(
            Page::ExecuteRead,
            Page::ExecuteRead,
            Page::ExecuteWriteCopy
        ));
        assert!(!may_protect(
            Page::ReadWrite,
            Page::ReadWrite,
            Page::ExecuteWriteCopy
        ));
        assert!(may_commit(Page::ExecuteReadWrite, Page::ExecuteWriteCopy));
        assert!(!may_commit(Page::ReadOnly, Page::ReadWrite));
        assert!(may_commit(Page::ReadOnly, Page::WriteCopy));
        assert_eq!(
            parse_page(PAGE_READWRITE | PAGE_GUARD),
            Ok((Page::ReadWrite, PAGE_GUARD))
        );
        assert_eq!(parse_page(0), Err(err::INVALID_PARAMETER));
        assert_eq!(
            parse_page(PAGE_READONLY | PAGE_READWRITE),
            Err(err::INVALID_PARAMETER)
        );
    }
}
