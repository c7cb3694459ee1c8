//! The object header: the first page of every object file, written once before the
//! object gets its name, and read back — as input another user may have forged — by
//! every open.
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic `SHMKIT\0\x01` |
//! | 8..12 | version (2: sync objects hold no pthread state) |
//! | 12..16 | kind ([`Kind`]'s header code) |
//! | 16..20 | flags (bits 0..8) and protection (bits 8..16) |
//! | 20..24 | length of the name |
//! | 24..32 | size of the object |
//! | 32..36 | owner uid |
//! | 36..40 | creator pid |
//! | 40..48 | creation time (seconds since the epoch) |
//! | 48..68 | backing file: device, inode, length of the path |
//! | 68..72 | the permission bits asked for at creation (file-backed mappings, whose object file is read-only: see `protocol`) |
//! | 256.. | the name (UTF-8, at most 1280 bytes) |
//! | 2048..4096 | the state of a sync object (see `sync::page`) |
//! | 4096.. | the backing file's path (file-backed mappings) |

use super::super::sys::{self, Errno};
use crate::kind::{Kind, Protection};
use crate::name::Name;
use rustix::fd::AsFd;

/// Where a memory object's data starts in its file: one allocation granule.
pub(crate) const DATA_OFFSET: u64 = crate::GRANULARITY;

const MAGIC: [u8; 8] = *b"SHMKIT\0\x01";
const VERSION: u32 = 3;
const PAGE0: usize = 4096;
const NAME_AT: usize = 256;
const NAME_MAX: usize = 1280;
// Bytes 2048..4096 of the first page are reserved for the state of sync objects.
const PATH_AT: u64 = 4096;
const PATH_MAX: usize = 4096;

pub(crate) const FLAG_PERSISTENT: u32 = 1;
pub(crate) const FLAG_FILE: u32 = 2;

/// The file behind a file-backed named mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backing {
    pub dev: u64,
    pub ino: u64,
    pub path: String,
}

/// An object's header: written once, before the object gets its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// `None` for a kind this version does not know (a newer shmkit's object).
    pub kind: Option<Kind>,
    pub flags: u32,
    /// Protection of a mapping.
    pub protection: Protection,
    pub size: u64,
    pub owner: u32,
    pub creator_pid: u32,
    pub created: u64,
    pub name: Option<String>,
    pub backing: Option<Backing>,
    /// The permission bits the creator asked for (0 in headers of earlier versions).
    pub mode: u32,
}

impl Header {
    pub(crate) fn new(kind: Kind, name: &Name, size: u64, owner: u32) -> Header {
        Header {
            kind: Some(kind),
            flags: 0,
            protection: Protection::ReadWrite,
            size,
            owner,
            creator_pid: sys::pid(),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            name: Some(name.full()),
            backing: None,
            mode: 0,
        }
    }

    /// The header of an unnamed object (only its kind matters).
    pub(crate) fn unnamed(kind: Kind) -> Header {
        Header {
            kind: Some(kind),
            flags: 0,
            protection: Protection::ReadWrite,
            size: 0,
            owner: 0,
            creator_pid: sys::pid(),
            created: 0,
            name: None,
            backing: None,
            mode: 0,
        }
    }

    pub(crate) fn persistent(&self) -> bool {
        self.flags & FLAG_PERSISTENT != 0
    }

    pub(crate) fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut p = vec![0u8; PAGE0];
        let name = self.name.as_deref().unwrap_or("").as_bytes();
        p[0..8].copy_from_slice(&MAGIC);
        p[8..12].copy_from_slice(&VERSION.to_le_bytes());
        p[12..16].copy_from_slice(&self.kind.map_or(0, Kind::code).to_le_bytes());
        p[16..20].copy_from_slice(&(self.flags | (self.protection.code() << 8)).to_le_bytes());
        p[20..24].copy_from_slice(&(name.len() as u32).to_le_bytes());
        p[24..32].copy_from_slice(&self.size.to_le_bytes());
        p[32..36].copy_from_slice(&self.owner.to_le_bytes());
        p[36..40].copy_from_slice(&self.creator_pid.to_le_bytes());
        p[40..48].copy_from_slice(&self.created.to_le_bytes());
        p[68..72].copy_from_slice(&self.mode.to_le_bytes());
        p[NAME_AT..NAME_AT + name.len()].copy_from_slice(name);
        let path = self.backing.as_ref().map(|b| {
            p[48..56].copy_from_slice(&b.dev.to_le_bytes());
            p[56..64].copy_from_slice(&b.ino.to_le_bytes());
            p[64..68].copy_from_slice(&(b.path.len() as u32).to_le_bytes());
            b.path.as_bytes().to_vec()
        });
        (p, path)
    }

    /// Reads and validates the header of an object file.
    pub(crate) fn read(fd: impl AsFd) -> std::result::Result<Header, Errno> {
        let fd = fd.as_fd();
        let mut p = vec![0u8; PAGE0];
        if rustix::io::pread(fd, &mut p, 0)? != PAGE0 {
            return Err(Errno::INVAL);
        }
        Header::decode_with(&p, |len| {
            let mut path = vec![0u8; len];
            if rustix::io::pread(fd, &mut path, PATH_AT)? != len {
                return Err(Errno::INVAL);
            }
            Ok(path)
        })
    }

    /// Validates the header at the start of `file`, the bytes of an object file from
    /// offset 0: the first page, then (file-backed mappings) the backing file's path.
    /// Pure: what [`Header::read`] does, over bytes in memory.
    #[cfg_attr(not(any(test, fuzzing)), allow(dead_code))] // the readers use `read`
    pub(crate) fn decode(file: &[u8]) -> std::result::Result<Header, Errno> {
        let page = file.get(..PAGE0).ok_or(Errno::INVAL)?;
        Header::decode_with(page, |len| {
            let at = PATH_AT as usize;
            file.get(at..at + len)
                .map(<[u8]>::to_vec)
                .ok_or(Errno::INVAL)
        })
    }

    /// Validates the first page `p` (PAGE0 bytes); `path(len)` reads the `len` bytes of
    /// the backing file's path, only asked for when the header says there is one.
    fn decode_with(
        p: &[u8],
        path: impl FnOnce(usize) -> std::result::Result<Vec<u8>, Errno>,
    ) -> std::result::Result<Header, Errno> {
        if p.len() != PAGE0 || p[0..8] != MAGIC {
            return Err(Errno::INVAL);
        }
        let u32_at = |i: usize| u32::from_le_bytes(p[i..i + 4].try_into().unwrap_or_default());
        let u64_at = |i: usize| u64::from_le_bytes(p[i..i + 8].try_into().unwrap_or_default());
        if u32_at(8) != VERSION {
            return Err(Errno::INVAL);
        }
        let name_len = u32_at(20) as usize;
        if name_len > NAME_MAX {
            return Err(Errno::INVAL);
        }
        let name =
            String::from_utf8(p[NAME_AT..NAME_AT + name_len].to_vec()).map_err(|_| Errno::INVAL)?;
        let word = u32_at(16);
        let flags = word & 0xff;
        let backing = if flags & FLAG_FILE != 0 {
            let len = u32_at(64) as usize;
            if len > PATH_MAX {
                return Err(Errno::INVAL);
            }
            let path = path(len)?;
            Some(Backing {
                dev: u64_at(48),
                ino: u64_at(56),
                path: String::from_utf8(path).map_err(|_| Errno::INVAL)?,
            })
        } else {
            None
        };
        Ok(Header {
            kind: Kind::from_code(u32_at(12)),
            flags,
            protection: Protection::from_code((word >> 8) & 0xff).ok_or(Errno::INVAL)?,
            size: u64_at(24),
            owner: u32_at(32),
            creator_pid: u32_at(36),
            created: u64_at(40),
            name: (!name.is_empty()).then_some(name),
            backing,
            mode: u32_at(68) & 0o777,
        })
    }

    pub(super) fn write(&self, fd: impl AsFd) -> std::result::Result<(), Errno> {
        let (page, path) = self.encode();
        // The rest of the page is a hole that reads as zeros.
        let used = NAME_AT + self.name.as_deref().map_or(0, str::len);
        write_all_at(fd.as_fd(), &page[..used], 0)?;
        if let Some(path) = path {
            if path.len() > PATH_MAX {
                return Err(Errno::NAMETOOLONG);
            }
            write_all_at(fd.as_fd(), &path, PATH_AT)?;
        }
        Ok(())
    }
}

fn write_all_at(
    fd: rustix::fd::BorrowedFd<'_>,
    mut data: &[u8],
    mut at: u64,
) -> std::result::Result<(), Errno> {
    while !data.is_empty() {
        let n = rustix::io::pwrite(fd, data, at)?;
        data = &data[n..];
        at += n as u64;
    }
    Ok(())
}

/// The name of a header's kind, for messages and listings.
pub(crate) fn kind_name(kind: Option<Kind>) -> &'static str {
    kind.map_or("unknown", Kind::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(backing: Option<Backing>) -> Header {
        Header {
            kind: Some(Kind::Semaphore),
            flags: if backing.is_some() { FLAG_FILE } else { 0 } | FLAG_PERSISTENT,
            protection: Protection::WriteCopy,
            size: 1 << 40,
            owner: 1000,
            creator_pid: 42,
            created: 1_700_000_000,
            name: Some("Local\\a:b".to_owned()),
            backing,
            mode: 0o640,
        }
    }

    /// The bytes of an object file that holds `h`: the first page, then the path.
    fn file_of(h: &Header) -> Vec<u8> {
        let (mut file, path) = h.encode();
        if let Some(path) = path {
            file.extend_from_slice(&path);
        }
        file
    }

    #[test]
    fn an_encoded_header_decodes_as_itself() {
        for backing in [
            None,
            Some(Backing {
                dev: 7,
                ino: 9,
                path: "/tmp/file".to_owned(),
            }),
        ] {
            let h = sample(backing);
            assert_eq!(Header::decode(&file_of(&h)), Ok(h));
        }
        let h = Header {
            name: None,
            kind: None,
            ..sample(None)
        };
        assert_eq!(Header::decode(&file_of(&h)), Ok(h));
    }

    #[test]
    fn forged_headers_are_refused() {
        let good = file_of(&sample(None));
        let with = |at: usize, bytes: &[u8]| {
            let mut f = good.clone();
            f[at..at + bytes.len()].copy_from_slice(bytes);
            f
        };
        for (why, file) in [
            ("short", good[..PAGE0 - 1].to_vec()),
            ("empty", Vec::new()),
            ("magic", with(0, b"SHMKIT\0\x02")),
            ("version", with(8, &(VERSION + 1).to_le_bytes())),
            (
                "name length",
                with(20, &(NAME_MAX as u32 + 1).to_le_bytes()),
            ),
            ("name not UTF-8", with(NAME_AT, &[0xff])),
            ("protection", with(17, &[3])),
        ] {
            assert_eq!(Header::decode(&file), Err(Errno::INVAL), "{why}");
        }
        // The file flag with a path the file does not hold, or one too long.
        let mut past_the_end = with(16, &[FLAG_FILE as u8]);
        past_the_end[64..68].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(Header::decode(&past_the_end), Err(Errno::INVAL));
        let mut long_path = with(16, &[FLAG_FILE as u8]);
        long_path[64..68].copy_from_slice(&(PATH_MAX as u32 + 1).to_le_bytes());
        long_path.resize(PATH_AT as usize + PATH_MAX + 1, b'a');
        assert_eq!(Header::decode(&long_path), Err(Errno::INVAL));
    }

    #[test]
    fn unknown_kinds_and_bits_read_as_unknown_and_cleared() {
        let mut f = file_of(&sample(None));
        f[12..16].copy_from_slice(&99u32.to_le_bytes());
        f[68..72].copy_from_slice(&0o7777u32.to_le_bytes());
        let h = Header::decode(&f).unwrap();
        assert_eq!((h.kind, h.mode), (None, 0o777));
        assert_eq!(kind_name(h.kind), "unknown");
    }
}
