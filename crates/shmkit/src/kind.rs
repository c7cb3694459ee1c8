//! The words every layer shares: what kind an object is, how a handle or a view may use
//! memory, what protection an object has, and what a mutex wait ended with.
//!
//! This module imports nothing from the crate: the public types, the backends, the token
//! codec and the faces all speak these words, so none of them has to import another to
//! name a kind or an access. Each word has exactly one spelling here, for messages,
//! inheritance tokens, the Linux object header and `inspect`.

use std::fmt;

/// The kinds of named object. Every kind lives in the one namespace (SPEC 1.5): a name
/// held by an object of one kind cannot be created or opened as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// A file-mapping object ([`Mapping`](crate::Mapping)).
    Mapping,
    /// A named mutex ([`Mutex`](crate::Mutex)).
    Mutex,
    /// A named event ([`Event`](crate::Event)).
    Event,
    /// A named semaphore ([`Semaphore`](crate::Semaphore)).
    Semaphore,
    /// A message channel (SPEC section 9).
    Channel,
}

impl Kind {
    /// Every kind, in the order of their header codes.
    pub const ALL: [Kind; 5] = [
        Kind::Mapping,
        Kind::Mutex,
        Kind::Event,
        Kind::Semaphore,
        Kind::Channel,
    ];

    /// The kind in lower case: `mapping`, `mutex`, `event`, `semaphore`, `channel`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Mapping => "mapping",
            Kind::Mutex => "mutex",
            Kind::Event => "event",
            Kind::Semaphore => "semaphore",
            Kind::Channel => "channel",
        }
    }

    /// The kind spelled by [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the kind is a synchronization object (mutex, event, semaphore).
    pub const fn is_sync(self) -> bool {
        matches!(self, Kind::Mutex | Kind::Event | Kind::Semaphore)
    }

    /// The number that stands for the kind in an object's header on disk.
    #[cfg_attr(windows, allow(dead_code))] // only the Linux object header has one
    pub(crate) const fn code(self) -> u32 {
        match self {
            Kind::Mapping => 1,
            Kind::Mutex => 2,
            Kind::Event => 3,
            Kind::Semaphore => 4,
            Kind::Channel => 5,
        }
    }

    /// The kind of header code `code`; `None` for a code this version does not know.
    #[cfg_attr(windows, allow(dead_code))] // only the Linux object header has one
    pub(crate) fn from_code(code: u32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a view (or a handle) may use the memory (`FILE_MAP_READ`, `FILE_MAP_ALL_ACCESS`,
/// `FILE_MAP_COPY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Read only.
    Read,
    /// Read and write, seen by every view of the object.
    ReadWrite,
    /// Read and write, but writes stay private to this view.
    CopyOnWrite,
}

impl Access {
    /// `r`, `rw` or `cow`: the spelling in inheritance tokens.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Access::Read => "r",
            Access::ReadWrite => "rw",
            Access::CopyOnWrite => "cow",
        }
    }

    /// The access spelled by [`Access::as_str`].
    pub(crate) fn parse(s: &str) -> Option<Access> {
        [Access::Read, Access::ReadWrite, Access::CopyOnWrite]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    /// Whether the access writes through to the object (and so needs a writable handle).
    pub(crate) const fn writes_through(self) -> bool {
        matches!(self, Access::ReadWrite)
    }
}

/// The page protection of a mapping object (`PAGE_READONLY`, `PAGE_READWRITE`,
/// `PAGE_WRITECOPY`): which views it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protection {
    /// Read and copy-on-write views only (`PAGE_READONLY`).
    ReadOnly,
    /// Every kind of view (`PAGE_READWRITE`), the default.
    ReadWrite,
    /// Read and copy-on-write views only (`PAGE_WRITECOPY`).
    WriteCopy,
}

impl Protection {
    /// Whether an object with this protection admits a view with `access`.
    pub(crate) fn allows(self, access: Access) -> bool {
        match access {
            Access::Read | Access::CopyOnWrite => true,
            Access::ReadWrite => self == Protection::ReadWrite,
        }
    }

    /// 0, 1 or 2: the number in the Linux object header and in inheritance tokens.
    pub(crate) const fn code(self) -> u32 {
        match self {
            Protection::ReadOnly => 0,
            Protection::ReadWrite => 1,
            Protection::WriteCopy => 2,
        }
    }

    /// The protection of code `code`; `None` for any other number.
    pub(crate) fn from_code(code: u32) -> Option<Protection> {
        [
            Protection::ReadOnly,
            Protection::ReadWrite,
            Protection::WriteCopy,
        ]
        .into_iter()
        .find(|p| p.code() == code)
    }
}

/// What a mutex wait ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acquire {
    /// The calling thread now owns the mutex (WAIT_OBJECT_0).
    Acquired,
    /// The calling thread now owns the mutex, whose previous owner ended without
    /// releasing it (WAIT_ABANDONED): the data it guards may be inconsistent.
    Abandoned,
    /// The timeout passed first (WAIT_TIMEOUT); nothing changed.
    TimedOut,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_word_has_one_spelling_that_reads_back() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(Kind::from_code(k.code()), Some(k));
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(Kind::parse("Mapping"), None);
        assert_eq!(Kind::from_code(0), None);
        for a in [Access::Read, Access::ReadWrite, Access::CopyOnWrite] {
            assert_eq!(Access::parse(a.as_str()), Some(a));
        }
        for p in [
            Protection::ReadOnly,
            Protection::ReadWrite,
            Protection::WriteCopy,
        ] {
            assert_eq!(Protection::from_code(p.code()), Some(p));
        }
        assert_eq!(Protection::from_code(3), None);
    }
}
