//! Security descriptors, ACLs and SIDs: what Windows programs build and hand to
//! `CreateFileMapping`, `CreateMutex`, `CreateEvent` and `CreateSemaphore` in
//! `SECURITY_ATTRIBUTES.lpSecurityDescriptor`, and what that makes of the object's
//! permissions.
//!
//! The building functions (`InitializeSecurityDescriptor`, `SetSecurityDescriptorDacl`,
//! `InitializeAcl`, `AddAccessAllowedAce`, `AllocateAndInitializeSid`,
//! `CreateWellKnownSid`, the SDDL conversions of `sddl.h`...) work on the memory layouts
//! of the Windows SDK, so a program may also read or write the structures itself.
//!
//! # From a descriptor to the object's permissions
//!
//! shmkit's objects have Unix permissions: read and write for the owner, the group and
//! everyone else (SPEC 6). The core's Windows backend turns such bits into a DACL
//! (`shmkit/src/os/windows/security.rs`: an allow entry for the user, the primary group
//! and Everyone, with deny entries so that each class gets exactly its bits). This
//! module does the reverse: it evaluates the DACL in order, as Windows does (the first
//! entry that decides a right decides it), for a member of each class:
//!
//! | class | the SIDs that apply to it |
//! |---|---|
//! | owner | the creating user (`S-1-22-1-UID`), Owner Rights (`OW`), the group's and everyone's |
//! | group | the creator's primary group (`S-1-22-2-GID`) and everyone's |
//! | others | everyone's: Everyone (`WD`), Authenticated Users (`AU`), Users (`BU`), Interactive (`IU`), Local |
//!
//! Local System (`SY`) and Administrators (`BA`) are root, which the permissions do not
//! bind: an allow entry for them changes nothing (root may open every object), and for
//! a creator that is root they are the owner's. Creator Owner (`CO`) and Creator Group
//! (`CG`) are placeholders for inheritance that match nobody on the object itself, and
//! inherit-only entries do not apply to it, as on Windows.
//!
//! The rights a class ends with give its bits: for a mapping, read with
//! `SECTION_MAP_READ` and write with `SECTION_MAP_WRITE`; for an event or a semaphore,
//! read with `SYNCHRONIZE` and write with `*_MODIFY_STATE`; for a mutex both with
//! `SYNCHRONIZE` (generic rights are mapped first, as Windows maps them for the kind).
//! A NULL DACL gives everyone read and write (`0o666`); no DACL, the default (`0o600`);
//! an empty DACL, nothing.
//!
//! What permissions cannot express fails the create call, never silently: an entry for
//! any other SID, a deny entry for root, entries of other types (object, callback) with
//! `ERROR_INVALID_SECURITY_DESCR`; an owner other than the caller with
//! `ERROR_INVALID_OWNER`; audit or alarm entries (a SACL needs `SeSecurityPrivilege` on
//! Windows) with `ERROR_PRIVILEGE_NOT_HELD`. Mandatory labels (integrity levels, which
//! Linux does not have) are accepted and change nothing for a process of medium level.

use crate::error::{self, ffi, Result};
use crate::strings;
use crate::types::*;
use std::ffi::{c_char, c_void};

// ---- constants ---------------------------------------------------------------------------

const SD_REVISION: u8 = 1;
const SE_OWNER_DEFAULTED: u16 = 0x0001;
const SE_GROUP_DEFAULTED: u16 = 0x0002;
const SE_DACL_PRESENT: u16 = 0x0004;
const SE_DACL_DEFAULTED: u16 = 0x0008;
const SE_SACL_PRESENT: u16 = 0x0010;
const SE_SACL_DEFAULTED: u16 = 0x0020;
const SE_DACL_AUTO_INHERIT_REQ: u16 = 0x0100;
const SE_SACL_AUTO_INHERIT_REQ: u16 = 0x0200;
const SE_DACL_AUTO_INHERITED: u16 = 0x0400;
const SE_SACL_AUTO_INHERITED: u16 = 0x0800;
const SE_DACL_PROTECTED: u16 = 0x1000;
const SE_SACL_PROTECTED: u16 = 0x2000;
const SE_SELF_RELATIVE: u16 = 0x8000;

const ACL_REVISION: u8 = 2;
const ACL_REVISION_DS: u8 = 4;
const ACL_HEADER: usize = 8;

const ACCESS_ALLOWED: u8 = 0x0;
const ACCESS_DENIED: u8 = 0x1;
const SYSTEM_AUDIT: u8 = 0x2;
const SYSTEM_ALARM: u8 = 0x3;
const SYSTEM_MANDATORY_LABEL: u8 = 0x11;
const INHERIT_ONLY_ACE: u8 = 0x8;
const SUCCESSFUL_ACCESS_ACE_FLAG: u8 = 0x40;
const FAILED_ACCESS_ACE_FLAG: u8 = 0x80;

/// The absolute descriptor of a 64-bit process: revision, sbz1, control, padding, then
/// four pointers.
const ABSOLUTE_LEN: usize = 40;
/// The self-relative descriptor: revision, sbz1, control, then four offsets.
const RELATIVE_LEN: usize = 20;

const DELETE: u32 = 0x0001_0000;
const READ_CONTROL: u32 = 0x0002_0000;
const SYNCHRONIZE: u32 = 0x0010_0000;
const STANDARD_RIGHTS_REQUIRED: u32 = 0x000F_0000;
const GENERIC_READ_RIGHT: u32 = 0x8000_0000;
const GENERIC_WRITE_RIGHT: u32 = 0x4000_0000;
const GENERIC_EXECUTE_RIGHT: u32 = 0x2000_0000;
const GENERIC_ALL_RIGHT: u32 = 0x1000_0000;

const REVISION_MISMATCH: DWORD = 1306;
const INVALID_FLAGS: DWORD = 1004;

// ---- SIDs ----------------------------------------------------------------------------

/// A SID: its identifier authority and sub-authorities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sid {
    auth: u64,
    subs: Vec<u32>,
}

impl Sid {
    fn new(auth: u64, subs: &[u32]) -> Sid {
        Sid {
            auth,
            subs: subs.to_vec(),
        }
    }

    fn len(&self) -> usize {
        8 + 4 * self.subs.len()
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = vec![1, self.subs.len() as u8];
        b.extend_from_slice(&self.auth.to_be_bytes()[2..]);
        for s in &self.subs {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    /// The SID at `p`, when it is a valid one.
    ///
    /// # Safety
    /// `p` is NULL or points to readable memory holding a SID (8 bytes, then 4 per
    /// sub-authority its second byte counts).
    unsafe fn read(p: *const c_void) -> Option<Sid> {
        if p.is_null() {
            return None;
        }
        let p = p.cast::<u8>();
        // SAFETY: by the caller's contract, the header is readable.
        let (rev, count) = unsafe { (*p, *p.add(1)) };
        if rev != 1 || count > 15 {
            return None;
        }
        let mut auth = 0u64;
        for i in 0..6 {
            // SAFETY: as above.
            auth = (auth << 8) | u64::from(unsafe { *p.add(2 + i) });
        }
        let subs = (0..usize::from(count))
            // SAFETY: the SID holds `count` sub-authorities, by the caller's contract.
            .map(|i| unsafe { p.add(8 + 4 * i).cast::<u32>().read_unaligned() })
            .collect();
        Some(Sid { auth, subs })
    }

    fn to_text(&self) -> String {
        let mut s = if self.auth >> 32 == 0 {
            format!("S-1-{}", self.auth)
        } else {
            format!("S-1-0x{:012X}", self.auth)
        };
        for sub in &self.subs {
            s.push_str(&format!("-{sub}"));
        }
        s
    }

    /// A SID string (`S-1-5-32-544`) or an SDDL alias (`BA`).
    fn parse(text: &str) -> Option<Sid> {
        if let Some(sid) = alias(text) {
            return Some(sid);
        }
        let rest = text
            .strip_prefix("S-1-")
            .or_else(|| text.strip_prefix("s-1-"))?;
        let mut parts = rest.split('-');
        let auth = parts.next()?;
        let auth = match auth.strip_prefix("0x").or_else(|| auth.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok()?,
            None => auth.parse::<u64>().ok()?,
        };
        if auth >> 48 != 0 {
            return None;
        }
        let subs = parts
            .map(|p| p.parse::<u32>().ok())
            .collect::<Option<Vec<_>>>()?;
        (subs.len() <= 15).then_some(Sid { auth, subs })
    }
}

/// The SDDL two-letter SID aliases (domain ones use this machine's stand-in domain).
fn alias(a: &str) -> Option<Sid> {
    const DOMAIN: [u32; 4] = [21, 0, 0, 0];
    let builtin = |rid| Sid::new(5, &[32, rid]);
    let domain = |rid| {
        let mut s = DOMAIN.to_vec();
        s.push(rid);
        Sid { auth: 5, subs: s }
    };
    Some(match a {
        "WD" => Sid::new(1, &[0]),
        "CO" => Sid::new(3, &[0]),
        "CG" => Sid::new(3, &[1]),
        "OW" => Sid::new(3, &[4]),
        "NU" => Sid::new(5, &[2]),
        "IU" => Sid::new(5, &[4]),
        "SU" => Sid::new(5, &[6]),
        "AN" => Sid::new(5, &[7]),
        "ED" => Sid::new(5, &[9]),
        "PS" => Sid::new(5, &[10]),
        "AU" => Sid::new(5, &[11]),
        "RC" => Sid::new(5, &[12]),
        "SY" => Sid::new(5, &[18]),
        "LS" => Sid::new(5, &[19]),
        "NS" => Sid::new(5, &[20]),
        "WR" => Sid::new(5, &[33]),
        "BA" => builtin(544),
        "BU" => builtin(545),
        "BG" => builtin(546),
        "PU" => builtin(547),
        "AO" => builtin(548),
        "SO" => builtin(549),
        "PO" => builtin(550),
        "BO" => builtin(551),
        "RE" => builtin(552),
        "RU" => builtin(554),
        "RD" => builtin(555),
        "NO" => builtin(556),
        "LU" => builtin(559),
        "MU" => builtin(558),
        "IS" => builtin(568),
        "CY" => builtin(569),
        "ER" => builtin(573),
        "CD" => builtin(574),
        "LW" => Sid::new(16, &[0x1000]),
        "ME" => Sid::new(16, &[0x2000]),
        "MP" => Sid::new(16, &[0x2100]),
        "HI" => Sid::new(16, &[0x3000]),
        "SI" => Sid::new(16, &[0x4000]),
        "AC" => Sid::new(15, &[2, 1]),
        "LA" => domain(500),
        "LG" => domain(501),
        "DA" => domain(512),
        "DU" => domain(513),
        "DG" => domain(514),
        "DC" => domain(515),
        "DD" => domain(516),
        "CA" => domain(517),
        "SA" => domain(518),
        "EA" => domain(519),
        "PA" => domain(520),
        "RS" => domain(553),
        _ => return None,
    })
}

/// The SIDs of `CreateWellKnownSid` that need no domain.
fn well_known(kind: u32) -> Option<Sid> {
    let b = |rid| Sid::new(5, &[32, rid]);
    Some(match kind {
        0 => Sid::new(0, &[0]),
        1 => Sid::new(1, &[0]),
        2 => Sid::new(2, &[0]),
        3 => Sid::new(3, &[0]),
        4 => Sid::new(3, &[1]),
        5 => Sid::new(3, &[2]),
        6 => Sid::new(3, &[3]),
        7 => Sid::new(5, &[]),
        8 => Sid::new(5, &[1]),
        9 => Sid::new(5, &[2]),
        10 => Sid::new(5, &[3]),
        11 => Sid::new(5, &[4]),
        12 => Sid::new(5, &[6]),
        13 => Sid::new(5, &[7]),
        14 => Sid::new(5, &[8]),
        15 => Sid::new(5, &[9]),
        16 => Sid::new(5, &[10]),
        17 => Sid::new(5, &[11]),
        18 => Sid::new(5, &[12]),
        19 => Sid::new(5, &[13]),
        20 => Sid::new(5, &[14]),
        22 => Sid::new(5, &[18]),
        23 => Sid::new(5, &[19]),
        24 => Sid::new(5, &[20]),
        25 => Sid::new(5, &[32]),
        26 => b(544),
        27 => b(545),
        28 => b(546),
        29 => b(547),
        30 => b(548),
        31 => b(549),
        32 => b(550),
        33 => b(551),
        34 => b(552),
        35 => b(554),
        36 => b(555),
        37 => b(556),
        51 => Sid::new(5, &[64, 10]),
        52 => Sid::new(5, &[64, 21]),
        53 => Sid::new(5, &[64, 14]),
        54 => Sid::new(5, &[15]),
        55 => Sid::new(5, &[1000]),
        56 => b(557),
        57 => b(558),
        58 => b(559),
        59 => b(560),
        60 => b(561),
        61 => b(562),
        62 => b(568),
        63 => Sid::new(5, &[17]),
        64 => b(569),
        65 => Sid::new(16, &[0]),
        66 => Sid::new(16, &[0x1000]),
        67 => Sid::new(16, &[0x2000]),
        68 => Sid::new(16, &[0x3000]),
        69 => Sid::new(16, &[0x4000]),
        70 => Sid::new(5, &[33]),
        71 => Sid::new(3, &[4]),
        72 => b(571),
        73 => b(572),
        76 => b(573),
        78 => b(574),
        79 => Sid::new(16, &[0x2100]),
        80 => Sid::new(2, &[0]),
        81 => Sid::new(2, &[1]),
        84 => Sid::new(15, &[2, 1]),
        _ => return None,
    })
}

// ---- ACLs and descriptors --------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
struct Ace {
    kind: u8,
    flags: u8,
    mask: u32,
    /// `None` for an entry type whose body is not mask-then-SID.
    sid: Option<Sid>,
    /// The raw entry, for types this module does not interpret.
    raw: Vec<u8>,
}

impl Ace {
    fn simple(kind: u8, flags: u8, mask: u32, sid: Sid) -> Ace {
        Ace {
            kind,
            flags,
            mask,
            sid: Some(sid),
            raw: Vec::new(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        if self.sid.is_none() {
            return self.raw.clone();
        }
        let sid = self.sid.as_ref().map(Sid::bytes).unwrap_or_default();
        let size = 8 + sid.len();
        let mut b = vec![self.kind, self.flags];
        b.extend_from_slice(&(size as u16).to_le_bytes());
        b.extend_from_slice(&self.mask.to_le_bytes());
        b.extend_from_slice(&sid);
        b
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Acl {
    revision: u8,
    aces: Vec<Ace>,
}

impl Acl {
    fn len(&self) -> usize {
        ACL_HEADER + self.aces.iter().map(|a| a.bytes().len()).sum::<usize>()
    }

    fn bytes(&self) -> Vec<u8> {
        let size = self.len();
        let mut b = vec![self.revision, 0];
        b.extend_from_slice(&(size as u16).to_le_bytes());
        b.extend_from_slice(&(self.aces.len() as u16).to_le_bytes());
        b.extend_from_slice(&[0, 0]);
        for a in &self.aces {
            b.extend_from_slice(&a.bytes());
        }
        b
    }

    /// The ACL at `p` (its header's size bounds every read).
    ///
    /// # Safety
    /// `p` is NULL or points to an ACL whose `AclSize` bytes are readable.
    unsafe fn read(p: *const c_void) -> Option<Acl> {
        if p.is_null() {
            return None;
        }
        let base = p.cast::<u8>();
        // SAFETY: the 8-byte header is readable, by the caller's contract.
        let head = unsafe { std::slice::from_raw_parts(base, ACL_HEADER) };
        let revision = head[0];
        let size = usize::from(u16::from_le_bytes([head[2], head[3]]));
        let count = usize::from(u16::from_le_bytes([head[4], head[5]]));
        if !(2..=4).contains(&revision) || size < ACL_HEADER {
            return None;
        }
        // SAFETY: `size` bytes are readable, by the caller's contract.
        let all = unsafe { std::slice::from_raw_parts(base, size) };
        let mut at = ACL_HEADER;
        let mut aces = Vec::with_capacity(count);
        for _ in 0..count {
            if at + 4 > size {
                return None;
            }
            let (kind, flags) = (all[at], all[at + 1]);
            let ace_size = usize::from(u16::from_le_bytes([all[at + 2], all[at + 3]]));
            if ace_size < 4 || at + ace_size > size {
                return None;
            }
            let body = &all[at..at + ace_size];
            let simple = matches!(
                kind,
                ACCESS_ALLOWED
                    | ACCESS_DENIED
                    | SYSTEM_AUDIT
                    | SYSTEM_ALARM
                    | SYSTEM_MANDATORY_LABEL
            );
            let ace = if simple {
                if ace_size < 16 {
                    return None;
                }
                let mask = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                // SAFETY: the SID lies inside the entry; its length is checked below.
                let sid = unsafe { Sid::read(body[8..].as_ptr().cast()) }?;
                if 8 + sid.len() > ace_size {
                    return None;
                }
                Ace::simple(kind, flags, mask, sid)
            } else {
                Ace {
                    kind,
                    flags,
                    mask: 0,
                    sid: None,
                    raw: body.to_vec(),
                }
            };
            aces.push(ace);
            at += ace_size;
        }
        Some(Acl { revision, aces })
    }
}

/// A security descriptor: `dacl`/`sacl` are `None` when absent, `Some(None)` for a
/// NULL ACL that is present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Descriptor {
    control: u16,
    owner: Option<Sid>,
    group: Option<Sid>,
    sacl: Option<Option<Acl>>,
    dacl: Option<Option<Acl>>,
}

fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

impl Descriptor {
    /// The descriptor at `p`, absolute or self-relative.
    ///
    /// # Safety
    /// `p` points to a security descriptor whose parts are readable.
    unsafe fn read(p: *const c_void) -> Result<Descriptor> {
        let b = p.cast::<u8>();
        // SAFETY: the header is readable, by the caller's contract.
        let (rev, control) = unsafe { (*b, b.add(2).cast::<u16>().read_unaligned()) };
        if rev != SD_REVISION {
            return error::fail(err::UNKNOWN_REVISION);
        }
        let part = |i: usize| -> *const c_void {
            if control & SE_SELF_RELATIVE != 0 {
                // SAFETY: the four offsets follow the header.
                let off = unsafe { b.add(4 + 4 * i).cast::<u32>().read_unaligned() } as usize;
                if off == 0 {
                    std::ptr::null()
                } else {
                    // SAFETY: the offset points inside the descriptor, by the contract.
                    unsafe { b.add(off).cast() }
                }
            } else {
                // SAFETY: the four pointers follow the header and its padding.
                unsafe { b.add(8 + 8 * i).cast::<*const c_void>().read_unaligned() }
            }
        };
        let bad = || error::Win32Error(err::INVALID_SECURITY_DESCR);
        let (owner_p, group_p, sacl_p, dacl_p) = (part(0), part(1), part(2), part(3));
        // SAFETY: each part is NULL or valid, by the caller's contract.
        let owner = match unsafe { Sid::read(owner_p) } {
            None if !owner_p.is_null() => return Err(bad()),
            o => o,
        };
        // SAFETY: as above.
        let group = match unsafe { Sid::read(group_p) } {
            None if !group_p.is_null() => return Err(bad()),
            g => g,
        };
        let acl = |present: bool, p: *const c_void| -> Result<Option<Option<Acl>>> {
            if !present {
                return Ok(None);
            }
            if p.is_null() {
                return Ok(Some(None));
            }
            // SAFETY: as above.
            match unsafe { Acl::read(p) } {
                Some(a) => Ok(Some(Some(a))),
                None => error::fail(err::INVALID_ACL),
            }
        };
        Ok(Descriptor {
            control: control & !SE_SELF_RELATIVE,
            owner,
            group,
            sacl: acl(control & SE_SACL_PRESENT != 0, sacl_p)?,
            dacl: acl(control & SE_DACL_PRESENT != 0, dacl_p)?,
        })
    }

    /// The self-relative form, its parts in the order Windows writes them (SACL, DACL,
    /// owner, group).
    fn relative(&self) -> Vec<u8> {
        let mut out = vec![0u8; RELATIVE_LEN];
        let mut control = self.control | SE_SELF_RELATIVE;
        let mut offsets = [0u32; 4];
        let mut put = |out: &mut Vec<u8>, slot: usize, bytes: Vec<u8>| {
            offsets[slot] = out.len() as u32;
            out.extend_from_slice(&bytes);
            out.resize(align4(out.len()), 0);
        };
        if let Some(sacl) = &self.sacl {
            control |= SE_SACL_PRESENT;
            if let Some(acl) = sacl {
                put(&mut out, 2, acl.bytes());
            }
        }
        if let Some(dacl) = &self.dacl {
            control |= SE_DACL_PRESENT;
            if let Some(acl) = dacl {
                put(&mut out, 3, acl.bytes());
            }
        }
        if let Some(o) = &self.owner {
            put(&mut out, 0, o.bytes());
        }
        if let Some(g) = &self.group {
            put(&mut out, 1, g.bytes());
        }
        out[0] = SD_REVISION;
        out[2..4].copy_from_slice(&control.to_le_bytes());
        for (i, off) in offsets.iter().enumerate() {
            out[4 + 4 * i..8 + 4 * i].copy_from_slice(&off.to_le_bytes());
        }
        out
    }
}

// ---- SDDL --------------------------------------------------------------------------

/// The rights of one SDDL code.
fn right(code: &str) -> Option<u32> {
    Some(match code {
        "GA" => GENERIC_ALL_RIGHT,
        "GR" => GENERIC_READ_RIGHT,
        "GW" => GENERIC_WRITE_RIGHT,
        "GX" => GENERIC_EXECUTE_RIGHT,
        "RC" => READ_CONTROL,
        "SD" => DELETE,
        "WD" => 0x0004_0000,
        "WO" => 0x0008_0000,
        "RP" => 0x10,
        "WP" => 0x20,
        "CC" => 0x1,
        "DC" => 0x2,
        "LC" => 0x4,
        "SW" => 0x8,
        "LO" => 0x80,
        "DT" => 0x40,
        "CR" => 0x100,
        "FA" => 0x001F_01FF,
        "FR" => 0x0012_0089,
        "FW" => 0x0012_0116,
        "FX" => 0x0012_00A0,
        "KA" => 0x000F_003F,
        "KR" => 0x0002_0019,
        "KW" => 0x0002_0006,
        "KX" => 0x0002_0019,
        "NR" => 0x2,
        "NW" => 0x1,
        "NX" => 0x4,
        _ => return None,
    })
}

fn parse_rights(text: &str) -> Option<u32> {
    if text.is_empty() {
        return Some(0);
    }
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .try_fold(0u32, |m, i| Some(m | right(&text[i..i + 2])?))
}

fn parse_ace_flags(text: &str) -> Option<u8> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).try_fold(0u8, |f, i| {
        Some(
            f | match &text[i..i + 2] {
                "OI" => 0x1,
                "CI" => 0x2,
                "NP" => 0x4,
                "IO" => 0x8,
                "ID" => 0x10,
                "SA" => 0x40,
                "FA" => 0x80,
                _ => return None,
            },
        )
    })
}

fn parse_ace(text: &str) -> Result<Ace> {
    let bad = || error::Win32Error(err::INVALID_ACL);
    let fields: Vec<&str> = text.split(';').map(str::trim).collect();
    if fields.len() != 6 {
        return Err(bad());
    }
    let kind = match fields[0] {
        "A" => ACCESS_ALLOWED,
        "D" => ACCESS_DENIED,
        "AU" => SYSTEM_AUDIT,
        "AL" => SYSTEM_ALARM,
        "ML" => SYSTEM_MANDATORY_LABEL,
        _ => return Err(bad()),
    };
    let flags = parse_ace_flags(fields[1]).ok_or_else(bad)?;
    let mask = parse_rights(fields[2]).ok_or_else(bad)?;
    if !fields[3].is_empty() || !fields[4].is_empty() {
        return Err(bad());
    }
    let sid = Sid::parse(fields[5]).ok_or_else(bad)?;
    Ok(Ace::simple(kind, flags, mask, sid))
}

/// One `D:` or `S:` part: its flags and ACL (`None` for `NO_ACCESS_CONTROL`).
fn parse_acl(text: &str) -> Result<(u16, Option<Acl>)> {
    let bad = || error::Win32Error(err::INVALID_ACL);
    let mut rest = text.trim_start();
    let mut flags = 0u16;
    let mut null = false;
    loop {
        if let Some(r) = rest.strip_prefix("NO_ACCESS_CONTROL") {
            null = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('P') {
            flags |= SE_DACL_PROTECTED;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("AI") {
            flags |= SE_DACL_AUTO_INHERITED;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("AR") {
            flags |= SE_DACL_AUTO_INHERIT_REQ;
            rest = r;
        } else {
            break;
        }
    }
    let mut acl = Acl {
        revision: ACL_REVISION,
        aces: Vec::new(),
    };
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let body = rest.strip_prefix('(').ok_or_else(bad)?;
        let end = body.find(')').ok_or_else(bad)?;
        acl.aces.push(parse_ace(&body[..end])?);
        rest = &body[end + 1..];
    }
    if null {
        if !acl.aces.is_empty() {
            return Err(bad());
        }
        return Ok((flags, None));
    }
    if acl
        .aces
        .iter()
        .any(|a| a.kind > SYSTEM_ALARM && a.kind != SYSTEM_MANDATORY_LABEL)
    {
        acl.revision = ACL_REVISION_DS;
    }
    Ok((flags, Some(acl)))
}

/// An SDDL string: `O:sid`, `G:sid`, `D:flags(ace)...`, `S:flags(ace)...`, in any order.
fn parse_sddl(text: &str) -> Result<Descriptor> {
    let mut d = Descriptor::default();
    let mut rest = text.trim_start();
    // The start of each part: a letter and a colon.
    let starts = |s: &str| -> Vec<usize> {
        let b = s.as_bytes();
        (0..b.len().saturating_sub(1))
            .filter(|&i| matches!(b[i], b'O' | b'G' | b'D' | b'S') && b[i + 1] == b':')
            .filter(|&i| {
                // Not inside an entry's parentheses.
                let before = &s[..i];
                before.matches('(').count() == before.matches(')').count()
            })
            .collect()
    };
    while !rest.is_empty() {
        let bytes = rest.as_bytes();
        if bytes.len() < 2 || bytes[1] != b':' || !matches!(bytes[0], b'O' | b'G' | b'D' | b'S') {
            return error::fail(err::INVALID_PARAMETER);
        }
        let tag = bytes[0];
        let body_all = &rest[2..];
        let next = starts(body_all)
            .into_iter()
            .next()
            .unwrap_or(body_all.len());
        let body = &body_all[..next];
        rest = body_all[next..].trim_start();
        match tag {
            b'O' => {
                d.owner = Some(Sid::parse(body.trim()).ok_or(error::Win32Error(err::INVALID_SID))?)
            }
            b'G' => {
                d.group = Some(Sid::parse(body.trim()).ok_or(error::Win32Error(err::INVALID_SID))?)
            }
            b'D' => {
                let (flags, acl) = parse_acl(body)?;
                d.control |= flags;
                d.dacl = Some(acl);
            }
            _ => {
                let (flags, acl) = parse_acl(body)?;
                // The SACL's flags are the DACL's shifted by one bit.
                d.control |= flags << 1;
                d.sacl = Some(acl);
            }
        }
    }
    if d.dacl.is_some() {
        d.control |= SE_DACL_PRESENT;
    }
    if d.sacl.is_some() {
        d.control |= SE_SACL_PRESENT;
    }
    Ok(d)
}

// ---- allocation ------------------------------------------------------------------------

/// A copy of `bytes` in memory that `LocalFree` frees.
fn local_copy(bytes: &[u8]) -> Result<*mut c_void> {
    // SAFETY: malloc of a non-zero size; NULL is checked.
    let p = unsafe { libc::malloc(bytes.len().max(1)) };
    if p.is_null() {
        return error::fail(err::NOT_ENOUGH_MEMORY);
    }
    // SAFETY: `p` holds `bytes.len()` writable bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.cast::<u8>(), bytes.len()) };
    Ok(p)
}

/// `LocalAlloc`: `size` bytes of memory (zeroed with `LMEM_ZEROINIT`); the value is the
/// memory itself for `LMEM_MOVEABLE` too. NULL on failure (`ERROR_NOT_ENOUGH_MEMORY`).
#[no_mangle]
pub extern "C" fn LocalAlloc(flags: u32, size: usize) -> *mut c_void {
    const LMEM_ZEROINIT: u32 = 0x40;
    ffi(std::ptr::null_mut(), || {
        // SAFETY: plain allocation; NULL is checked.
        let p = unsafe {
            if flags & LMEM_ZEROINIT != 0 {
                libc::calloc(1, size.max(1))
            } else {
                libc::malloc(size.max(1))
            }
        };
        if p.is_null() {
            return error::fail(err::NOT_ENOUGH_MEMORY);
        }
        Ok(p)
    })
}

/// `LocalFree`: frees memory from `LocalAlloc` or from a function documented to return
/// memory for `LocalFree` (the SDDL conversions); returns NULL.
///
/// # Safety
/// `p` is NULL or such memory, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn LocalFree(p: *mut c_void) -> *mut c_void {
    // SAFETY: by the function's contract.
    unsafe { libc::free(p) };
    std::ptr::null_mut()
}

// ---- descriptors ---------------------------------------------------------------------

/// Checks that `sd` is an absolute descriptor of revision 1 that may be changed.
///
/// # Safety
/// `sd` is NULL or points to a SECURITY_DESCRIPTOR.
unsafe fn absolute(sd: *mut c_void) -> Result<*mut u8> {
    if sd.is_null() {
        return error::fail(err::INVALID_SECURITY_DESCR);
    }
    let b = sd.cast::<u8>();
    // SAFETY: the header is readable, by the caller's contract.
    let (rev, control) = unsafe { (*b, b.add(2).cast::<u16>().read_unaligned()) };
    if rev != SD_REVISION {
        return error::fail(err::UNKNOWN_REVISION);
    }
    if control & SE_SELF_RELATIVE != 0 {
        return error::fail(err::INVALID_SECURITY_DESCR);
    }
    Ok(b)
}

/// # Safety
/// `b` is an absolute descriptor.
unsafe fn set_control(b: *mut u8, clear: u16, set: u16) {
    // SAFETY: the control word is at offset 2, by the caller's contract.
    unsafe {
        let c = b.add(2).cast::<u16>();
        c.write_unaligned((c.read_unaligned() & !clear) | set);
    }
}

/// # Safety
/// `b` is an absolute descriptor; `slot` 0..4.
unsafe fn set_part(b: *mut u8, slot: usize, p: *mut c_void) {
    // SAFETY: the pointers follow the header, by the caller's contract.
    unsafe { b.add(8 + 8 * slot).cast::<*mut c_void>().write_unaligned(p) };
}

/// The pointer to part `slot` of any descriptor (absolute or self-relative).
///
/// # Safety
/// `sd` points to a valid descriptor.
unsafe fn part_ptr(sd: *mut c_void, slot: usize) -> *mut c_void {
    let b = sd.cast::<u8>();
    // SAFETY: by the caller's contract.
    unsafe {
        let control = b.add(2).cast::<u16>().read_unaligned();
        if control & SE_SELF_RELATIVE != 0 {
            let off = b.add(4 + 4 * slot).cast::<u32>().read_unaligned() as usize;
            if off == 0 {
                std::ptr::null_mut()
            } else {
                b.add(off).cast()
            }
        } else {
            b.add(8 + 8 * slot).cast::<*mut c_void>().read_unaligned()
        }
    }
}

/// `InitializeSecurityDescriptor`: an empty absolute descriptor (no owner, group or
/// ACLs); `dwRevision` must be `SECURITY_DESCRIPTOR_REVISION` (1), else
/// `ERROR_UNKNOWN_REVISION`.
///
/// # Safety
/// `sd` points to `SECURITY_DESCRIPTOR_MIN_LENGTH` (40) writable bytes.
#[no_mangle]
pub unsafe extern "C" fn InitializeSecurityDescriptor(sd: *mut c_void, revision: DWORD) -> BOOL {
    ffi(FALSE, || {
        if revision != u32::from(SD_REVISION) {
            return error::fail(err::UNKNOWN_REVISION);
        }
        if sd.is_null() {
            return error::fail(err::NOACCESS);
        }
        // SAFETY: 40 writable bytes, by the function's contract.
        unsafe {
            std::ptr::write_bytes(sd.cast::<u8>(), 0, ABSOLUTE_LEN);
            *sd.cast::<u8>() = SD_REVISION;
        }
        Ok(TRUE)
    })
}

/// `IsValidSecurityDescriptor`: whether `sd` is a descriptor of revision 1 whose parts
/// are valid.
///
/// # Safety
/// `sd` is NULL or points to a security descriptor.
#[no_mangle]
pub unsafe extern "C" fn IsValidSecurityDescriptor(sd: *mut c_void) -> BOOL {
    if sd.is_null() {
        error::set(err::INVALID_SECURITY_DESCR);
        return FALSE;
    }
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { Descriptor::read(sd) }.map(|_| TRUE))
}

/// `GetSecurityDescriptorLength`: the bytes the descriptor and its parts take.
///
/// # Safety
/// `sd` points to a valid security descriptor.
#[no_mangle]
pub unsafe extern "C" fn GetSecurityDescriptorLength(sd: *mut c_void) -> DWORD {
    ffi(0, || {
        // SAFETY: by the function's contract.
        let d = unsafe { Descriptor::read(sd) }?;
        // SAFETY: as above.
        let relative = unsafe { sd.cast::<u8>().add(2).cast::<u16>().read_unaligned() }
            & SE_SELF_RELATIVE
            != 0;
        let mut n = if relative { RELATIVE_LEN } else { ABSOLUTE_LEN };
        n += d.owner.as_ref().map_or(0, |s| align4(s.len()));
        n += d.group.as_ref().map_or(0, |s| align4(s.len()));
        for acl in [&d.sacl, &d.dacl].into_iter().flatten().flatten() {
            n += align4(acl.len());
        }
        Ok(n as DWORD)
    })
}

/// `GetSecurityDescriptorControl`: the descriptor's control bits and revision.
///
/// # Safety
/// `sd` points to a security descriptor; `control` and `revision` to writable values.
#[no_mangle]
pub unsafe extern "C" fn GetSecurityDescriptorControl(
    sd: *mut c_void,
    control: *mut u16,
    revision: *mut DWORD,
) -> BOOL {
    ffi(FALSE, || {
        if sd.is_null() || control.is_null() || revision.is_null() {
            return error::fail(err::NOACCESS);
        }
        let b = sd.cast::<u8>();
        // SAFETY: by the function's contract.
        unsafe {
            *revision = u32::from(*b);
            *control = b.add(2).cast::<u16>().read_unaligned();
            if *b != SD_REVISION {
                return error::fail(err::UNKNOWN_REVISION);
            }
        }
        Ok(TRUE)
    })
}

/// `SetSecurityDescriptorControl`: sets the inheritance and protection bits of
/// `interest` (`SE_DACL_PROTECTED`, `SE_DACL_AUTO_INHERITED`... ) to their values in
/// `bits`; other bits are `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `sd` points to a security descriptor.
#[no_mangle]
pub unsafe extern "C" fn SetSecurityDescriptorControl(
    sd: *mut c_void,
    interest: u16,
    bits: u16,
) -> BOOL {
    const SETTABLE: u16 = SE_DACL_AUTO_INHERIT_REQ
        | SE_SACL_AUTO_INHERIT_REQ
        | SE_DACL_AUTO_INHERITED
        | SE_SACL_AUTO_INHERITED
        | SE_DACL_PROTECTED
        | SE_SACL_PROTECTED
        | 0x4000;
    ffi(FALSE, || {
        if (interest | bits) & !SETTABLE != 0 {
            return error::fail(err::INVALID_PARAMETER);
        }
        if sd.is_null() {
            return error::fail(err::INVALID_SECURITY_DESCR);
        }
        // SAFETY: by the function's contract.
        unsafe {
            if *sd.cast::<u8>() != SD_REVISION {
                return error::fail(err::UNKNOWN_REVISION);
            }
            set_control(sd.cast(), interest, bits & interest);
        }
        Ok(TRUE)
    })
}

/// Sets the DACL (`slot` 3) or SACL (2) of an absolute descriptor.
///
/// # Safety
/// `sd` is NULL or an absolute descriptor; `acl` NULL or an ACL that outlives its use.
unsafe fn set_acl(
    sd: *mut c_void,
    slot: usize,
    present: BOOL,
    acl: *mut c_void,
    defaulted: BOOL,
) -> Result<BOOL> {
    // SAFETY: by the caller's contract.
    let b = unsafe { absolute(sd) }?;
    let (present_bit, defaulted_bit) = if slot == 3 {
        (SE_DACL_PRESENT, SE_DACL_DEFAULTED)
    } else {
        (SE_SACL_PRESENT, SE_SACL_DEFAULTED)
    };
    // SAFETY: `b` is an absolute descriptor.
    unsafe {
        if present == 0 {
            set_control(b, present_bit | defaulted_bit, 0);
            set_part(b, slot, std::ptr::null_mut());
        } else {
            let d = if defaulted != 0 { defaulted_bit } else { 0 };
            set_control(b, present_bit | defaulted_bit, present_bit | d);
            set_part(b, slot, acl);
        }
    }
    Ok(TRUE)
}

/// `SetSecurityDescriptorDacl`: sets the descriptor's DACL. `bDaclPresent` FALSE
/// removes it (the object gets the default permissions); TRUE with a NULL `pDacl` is a
/// NULL DACL (everyone has every right). The descriptor keeps the pointer.
///
/// # Safety
/// `sd` points to an absolute descriptor; `acl` is NULL or an ACL that outlives the
/// descriptor's use.
#[no_mangle]
pub unsafe extern "C" fn SetSecurityDescriptorDacl(
    sd: *mut c_void,
    present: BOOL,
    acl: *mut c_void,
    defaulted: BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { set_acl(sd, 3, present, acl, defaulted) })
}

/// `SetSecurityDescriptorSacl`: [`SetSecurityDescriptorDacl`] for the SACL.
///
/// # Safety
/// As for [`SetSecurityDescriptorDacl`].
#[no_mangle]
pub unsafe extern "C" fn SetSecurityDescriptorSacl(
    sd: *mut c_void,
    present: BOOL,
    acl: *mut c_void,
    defaulted: BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { set_acl(sd, 2, present, acl, defaulted) })
}

/// Reads the DACL (3) or SACL (2) of any descriptor.
///
/// # Safety
/// `sd` points to a descriptor; the out pointers are writable.
unsafe fn get_acl(
    sd: *mut c_void,
    slot: usize,
    present: *mut BOOL,
    acl: *mut *mut c_void,
    defaulted: *mut BOOL,
) -> Result<BOOL> {
    if sd.is_null() || present.is_null() || acl.is_null() || defaulted.is_null() {
        return error::fail(err::NOACCESS);
    }
    // SAFETY: by the caller's contract.
    unsafe {
        if *sd.cast::<u8>() != SD_REVISION {
            return error::fail(err::UNKNOWN_REVISION);
        }
        let control = sd.cast::<u8>().add(2).cast::<u16>().read_unaligned();
        let (present_bit, defaulted_bit) = if slot == 3 {
            (SE_DACL_PRESENT, SE_DACL_DEFAULTED)
        } else {
            (SE_SACL_PRESENT, SE_SACL_DEFAULTED)
        };
        *present = BOOL::from(control & present_bit != 0);
        if control & present_bit != 0 {
            *acl = part_ptr(sd, slot);
            *defaulted = BOOL::from(control & defaulted_bit != 0);
        }
    }
    Ok(TRUE)
}

/// `GetSecurityDescriptorDacl`: whether the descriptor has a DACL, the DACL (NULL for a
/// NULL DACL) and whether it was defaulted.
///
/// # Safety
/// `sd` points to a descriptor; the three out pointers are writable.
#[no_mangle]
pub unsafe extern "C" fn GetSecurityDescriptorDacl(
    sd: *mut c_void,
    present: *mut BOOL,
    acl: *mut *mut c_void,
    defaulted: *mut BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { get_acl(sd, 3, present, acl, defaulted) })
}

/// `GetSecurityDescriptorSacl`: [`GetSecurityDescriptorDacl`] for the SACL.
///
/// # Safety
/// As for [`GetSecurityDescriptorDacl`].
#[no_mangle]
pub unsafe extern "C" fn GetSecurityDescriptorSacl(
    sd: *mut c_void,
    present: *mut BOOL,
    acl: *mut *mut c_void,
    defaulted: *mut BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { get_acl(sd, 2, present, acl, defaulted) })
}

/// # Safety
/// `sd` an absolute descriptor; `sid` NULL or a SID that outlives its use.
unsafe fn set_sid(sd: *mut c_void, slot: usize, sid: *mut c_void, defaulted: BOOL) -> Result<BOOL> {
    // SAFETY: by the caller's contract.
    let b = unsafe { absolute(sd) }?;
    let bit = if slot == 0 {
        SE_OWNER_DEFAULTED
    } else {
        SE_GROUP_DEFAULTED
    };
    // SAFETY: `b` is an absolute descriptor.
    unsafe {
        set_part(b, slot, sid);
        set_control(b, bit, if defaulted != 0 { bit } else { 0 });
    }
    Ok(TRUE)
}

/// # Safety
/// `sd` a descriptor; the out pointers writable.
unsafe fn get_sid(
    sd: *mut c_void,
    slot: usize,
    sid: *mut *mut c_void,
    defaulted: *mut BOOL,
) -> Result<BOOL> {
    if sd.is_null() || sid.is_null() || defaulted.is_null() {
        return error::fail(err::NOACCESS);
    }
    let bit = if slot == 0 {
        SE_OWNER_DEFAULTED
    } else {
        SE_GROUP_DEFAULTED
    };
    // SAFETY: by the caller's contract.
    unsafe {
        if *sd.cast::<u8>() != SD_REVISION {
            return error::fail(err::UNKNOWN_REVISION);
        }
        let control = sd.cast::<u8>().add(2).cast::<u16>().read_unaligned();
        *sid = part_ptr(sd, slot);
        *defaulted = BOOL::from(control & bit != 0);
    }
    Ok(TRUE)
}

/// `SetSecurityDescriptorOwner`: sets the descriptor's owner (NULL: none).
///
/// # Safety
/// `sd` an absolute descriptor; `sid` NULL or a SID that outlives its use.
#[no_mangle]
pub unsafe extern "C" fn SetSecurityDescriptorOwner(
    sd: *mut c_void,
    sid: *mut c_void,
    defaulted: BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { set_sid(sd, 0, sid, defaulted) })
}

/// `SetSecurityDescriptorGroup`: sets the descriptor's primary group (NULL: none).
///
/// # Safety
/// As for [`SetSecurityDescriptorOwner`].
#[no_mangle]
pub unsafe extern "C" fn SetSecurityDescriptorGroup(
    sd: *mut c_void,
    sid: *mut c_void,
    defaulted: BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { set_sid(sd, 1, sid, defaulted) })
}

/// `GetSecurityDescriptorOwner`: the descriptor's owner (NULL: none).
///
/// # Safety
/// `sd` a descriptor; the out pointers writable.
#[no_mangle]
pub unsafe extern "C" fn GetSecurityDescriptorOwner(
    sd: *mut c_void,
    sid: *mut *mut c_void,
    defaulted: *mut BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { get_sid(sd, 0, sid, defaulted) })
}

/// `GetSecurityDescriptorGroup`: the descriptor's primary group (NULL: none).
///
/// # Safety
/// As for [`GetSecurityDescriptorOwner`].
#[no_mangle]
pub unsafe extern "C" fn GetSecurityDescriptorGroup(
    sd: *mut c_void,
    sid: *mut *mut c_void,
    defaulted: *mut BOOL,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe { get_sid(sd, 1, sid, defaulted) })
}

// ---- ACLs ----------------------------------------------------------------------------

/// `InitializeAcl`: an empty ACL of `nAclLength` bytes (rounded down to a multiple of
/// 4); `ERROR_INSUFFICIENT_BUFFER` below 8 bytes, `ERROR_INVALID_PARAMETER` for a
/// revision other than 2 to 4 or more than 65535 bytes.
///
/// # Safety
/// `acl` points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn InitializeAcl(acl: *mut c_void, len: DWORD, revision: DWORD) -> BOOL {
    ffi(FALSE, || {
        if len < ACL_HEADER as u32 {
            return error::fail(err::INSUFFICIENT_BUFFER);
        }
        if !(2..=4).contains(&revision) || len > 0xFFFF {
            return error::fail(err::INVALID_PARAMETER);
        }
        if acl.is_null() {
            return error::fail(err::NOACCESS);
        }
        let size = (len & !3) as u16;
        let mut head = [revision as u8, 0, 0, 0, 0, 0, 0, 0];
        head[2..4].copy_from_slice(&size.to_le_bytes());
        // SAFETY: at least 8 writable bytes, by the function's contract.
        unsafe { std::ptr::copy_nonoverlapping(head.as_ptr(), acl.cast::<u8>(), ACL_HEADER) };
        Ok(TRUE)
    })
}

/// `IsValidAcl`: whether the ACL's revision, size and entries are consistent.
///
/// # Safety
/// `acl` is NULL or points to an ACL whose `AclSize` bytes are readable.
#[no_mangle]
pub unsafe extern "C" fn IsValidAcl(acl: *mut c_void) -> BOOL {
    // SAFETY: by the function's contract.
    BOOL::from(unsafe { Acl::read(acl) }.is_some())
}

/// Appends an entry to an ACL in place.
///
/// # Safety
/// `acl` is NULL or an ACL with `AclSize` writable bytes; `sid` NULL or a SID.
unsafe fn add_ace(
    acl: *mut c_void,
    revision: DWORD,
    kind: u8,
    flags: DWORD,
    mask: DWORD,
    sid: *mut c_void,
) -> Result<BOOL> {
    // SAFETY: by the caller's contract.
    let Some(parsed) = (unsafe { Acl::read(acl) }) else {
        return error::fail(err::INVALID_ACL);
    };
    if !(2..=4).contains(&revision) {
        return error::fail(REVISION_MISMATCH);
    }
    if flags & !0xDF != 0 {
        return error::fail(INVALID_FLAGS);
    }
    // SAFETY: as above.
    let Some(sid) = (unsafe { Sid::read(sid) }) else {
        return error::fail(err::INVALID_SID);
    };
    let used = parsed.len();
    let entry = Ace::simple(kind, flags as u8, mask, sid).bytes();
    let base = acl.cast::<u8>();
    // SAFETY: the header is readable (the ACL parsed).
    let size = usize::from(unsafe { base.add(2).cast::<u16>().read_unaligned() });
    if used + entry.len() > size {
        return error::fail(err::ALLOTTED_SPACE_EXCEEDED);
    }
    // SAFETY: `used + entry.len() <= AclSize` bytes are writable, by the contract.
    unsafe {
        std::ptr::copy_nonoverlapping(entry.as_ptr(), base.add(used), entry.len());
        let count = base.add(4).cast::<u16>();
        count.write_unaligned(count.read_unaligned() + 1);
        if revision as u8 > *base {
            *base = revision as u8;
        }
    }
    Ok(TRUE)
}

/// `AddAccessAllowedAce`: appends an entry that allows `AccessMask` to `pSid`;
/// `ERROR_ALLOTTED_SPACE_EXCEEDED` when the ACL has no room, `ERROR_INVALID_SID` for an
/// invalid SID.
///
/// # Safety
/// `acl` points to an ACL made by `InitializeAcl`; `sid` to a SID.
#[no_mangle]
pub unsafe extern "C" fn AddAccessAllowedAce(
    acl: *mut c_void,
    revision: DWORD,
    mask: DWORD,
    sid: *mut c_void,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe {
        add_ace(acl, revision, ACCESS_ALLOWED, 0, mask, sid)
    })
}

/// `AddAccessAllowedAceEx`: [`AddAccessAllowedAce`] with inheritance flags.
///
/// # Safety
/// As for [`AddAccessAllowedAce`].
#[no_mangle]
pub unsafe extern "C" fn AddAccessAllowedAceEx(
    acl: *mut c_void,
    revision: DWORD,
    flags: DWORD,
    mask: DWORD,
    sid: *mut c_void,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe {
        add_ace(acl, revision, ACCESS_ALLOWED, flags, mask, sid)
    })
}

/// `AddAccessDeniedAce`: appends an entry that denies `AccessMask` to `pSid`.
///
/// # Safety
/// As for [`AddAccessAllowedAce`].
#[no_mangle]
pub unsafe extern "C" fn AddAccessDeniedAce(
    acl: *mut c_void,
    revision: DWORD,
    mask: DWORD,
    sid: *mut c_void,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe {
        add_ace(acl, revision, ACCESS_DENIED, 0, mask, sid)
    })
}

/// `AddAccessDeniedAceEx`: [`AddAccessDeniedAce`] with inheritance flags.
///
/// # Safety
/// As for [`AddAccessAllowedAce`].
#[no_mangle]
pub unsafe extern "C" fn AddAccessDeniedAceEx(
    acl: *mut c_void,
    revision: DWORD,
    flags: DWORD,
    mask: DWORD,
    sid: *mut c_void,
) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe {
        add_ace(acl, revision, ACCESS_DENIED, flags, mask, sid)
    })
}

/// `AddAuditAccessAce`: appends an audit entry (for a SACL).
///
/// # Safety
/// As for [`AddAccessAllowedAce`].
#[no_mangle]
pub unsafe extern "C" fn AddAuditAccessAce(
    acl: *mut c_void,
    revision: DWORD,
    mask: DWORD,
    sid: *mut c_void,
    success: BOOL,
    failure: BOOL,
) -> BOOL {
    let mut flags = 0;
    if success != 0 {
        flags |= u32::from(SUCCESSFUL_ACCESS_ACE_FLAG);
    }
    if failure != 0 {
        flags |= u32::from(FAILED_ACCESS_ACE_FLAG);
    }
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe {
        add_ace(acl, revision, SYSTEM_AUDIT, flags, mask, sid)
    })
}

/// `GetAce`: a pointer to entry `index` of the ACL; `ERROR_INVALID_PARAMETER` past the
/// last.
///
/// # Safety
/// `acl` points to a valid ACL; `ace` to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn GetAce(acl: *mut c_void, index: DWORD, ace: *mut *mut c_void) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let Some(parsed) = (unsafe { Acl::read(acl) }) else {
            return error::fail(err::INVALID_ACL);
        };
        let i = index as usize;
        if i >= parsed.aces.len() || ace.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let offset = ACL_HEADER
            + parsed.aces[..i]
                .iter()
                .map(|a| a.bytes().len())
                .sum::<usize>();
        // SAFETY: the entry lies inside the ACL; `ace` is writable.
        unsafe { *ace = acl.cast::<u8>().add(offset).cast() };
        Ok(TRUE)
    })
}

/// `GetAclInformation`: the ACL's revision (`AclRevisionInformation`) or its entry
/// count and the bytes used and free (`AclSizeInformation`).
///
/// # Safety
/// `acl` points to a valid ACL; `info` to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn GetAclInformation(
    acl: *mut c_void,
    info: *mut c_void,
    len: DWORD,
    class: u32,
) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let Some(parsed) = (unsafe { Acl::read(acl) }) else {
            return error::fail(err::INVALID_ACL);
        };
        // SAFETY: the header is readable.
        let size = u32::from(unsafe { acl.cast::<u8>().add(2).cast::<u16>().read_unaligned() });
        let values: Vec<u32> = match class {
            1 => vec![u32::from(parsed.revision)],
            2 => {
                let used = parsed.len() as u32;
                vec![parsed.aces.len() as u32, used, size.saturating_sub(used)]
            }
            _ => return error::fail(err::INVALID_PARAMETER),
        };
        if (len as usize) < 4 * values.len() || info.is_null() {
            return error::fail(err::INSUFFICIENT_BUFFER);
        }
        for (i, v) in values.iter().enumerate() {
            // SAFETY: `info` holds `len` >= 4 * values.len() writable bytes.
            unsafe { info.cast::<u32>().add(i).write_unaligned(*v) };
        }
        Ok(TRUE)
    })
}

// ---- SIDs ----------------------------------------------------------------------------

fn authority_of(p: *const c_void) -> Option<u64> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a SID_IDENTIFIER_AUTHORITY is 6 readable bytes, by the callers' contracts.
    let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), 6) };
    Some(b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

/// `AllocateAndInitializeSid`: a SID of `nSubAuthorityCount` (at most 8) of the given
/// sub-authorities, to free with `FreeSid`.
///
/// # Safety
/// `auth` points to a SID_IDENTIFIER_AUTHORITY; `sid` to a writable pointer.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn AllocateAndInitializeSid(
    auth: *const c_void,
    count: u8,
    s0: DWORD,
    s1: DWORD,
    s2: DWORD,
    s3: DWORD,
    s4: DWORD,
    s5: DWORD,
    s6: DWORD,
    s7: DWORD,
    sid: *mut *mut c_void,
) -> BOOL {
    ffi(FALSE, || {
        if count > 8 || sid.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let Some(auth) = authority_of(auth) else {
            return error::fail(err::NOACCESS);
        };
        let subs = [s0, s1, s2, s3, s4, s5, s6, s7];
        let value = Sid::new(auth, &subs[..usize::from(count)]);
        let p = local_copy(&value.bytes())?;
        // SAFETY: `sid` is writable, by the function's contract.
        unsafe { *sid = p };
        Ok(TRUE)
    })
}

/// `FreeSid`: frees a SID from `AllocateAndInitializeSid`; returns NULL.
///
/// # Safety
/// `sid` is NULL or such a SID, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn FreeSid(sid: *mut c_void) -> *mut c_void {
    // SAFETY: by the function's contract.
    unsafe { libc::free(sid) };
    std::ptr::null_mut()
}

/// `InitializeSid`: a SID's header (its sub-authorities are set with
/// `GetSidSubAuthority`).
///
/// # Safety
/// `sid` points to `GetSidLengthRequired(count)` writable bytes; `auth` to an authority.
#[no_mangle]
pub unsafe extern "C" fn InitializeSid(sid: *mut c_void, auth: *const c_void, count: u8) -> BOOL {
    ffi(FALSE, || {
        if count > 15 {
            return error::fail(err::INVALID_PARAMETER);
        }
        let Some(auth) = authority_of(auth) else {
            return error::fail(err::NOACCESS);
        };
        let head = Sid::new(auth, &[]).bytes();
        // SAFETY: 8 writable bytes at least, by the function's contract.
        unsafe {
            std::ptr::copy_nonoverlapping(head.as_ptr(), sid.cast::<u8>(), 8);
            *sid.cast::<u8>().add(1) = count;
        }
        Ok(TRUE)
    })
}

/// `CreateWellKnownSid`: the SID of a `WELL_KNOWN_SID_TYPE` that needs no domain, into
/// `pSid` of `*cbSid` bytes (`ERROR_INSUFFICIENT_BUFFER` with the size needed in
/// `*cbSid` when too small); a type that needs a domain is `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `sid` is NULL or points to `*size` writable bytes; `size` to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn CreateWellKnownSid(
    kind: u32,
    _domain: *mut c_void,
    sid: *mut c_void,
    size: *mut DWORD,
) -> BOOL {
    ffi(FALSE, || {
        let Some(value) = well_known(kind) else {
            return error::fail(err::INVALID_PARAMETER);
        };
        if size.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let bytes = value.bytes();
        // SAFETY: `size` is writable, by the function's contract.
        unsafe {
            if (*size as usize) < bytes.len() || sid.is_null() {
                *size = bytes.len() as DWORD;
                return error::fail(err::INSUFFICIENT_BUFFER);
            }
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), sid.cast::<u8>(), bytes.len());
            *size = bytes.len() as DWORD;
        }
        Ok(TRUE)
    })
}

/// `IsWellKnownSid`: whether the SID is that of the well-known type.
///
/// # Safety
/// `sid` is NULL or points to a SID.
#[no_mangle]
pub unsafe extern "C" fn IsWellKnownSid(sid: *mut c_void, kind: u32) -> BOOL {
    // SAFETY: by the function's contract.
    let s = unsafe { Sid::read(sid) };
    BOOL::from(s.is_some() && s == well_known(kind))
}

/// `IsValidSid`: revision 1 and at most 15 sub-authorities.
///
/// # Safety
/// `sid` is NULL or points to a SID.
#[no_mangle]
pub unsafe extern "C" fn IsValidSid(sid: *mut c_void) -> BOOL {
    // SAFETY: by the function's contract.
    BOOL::from(unsafe { Sid::read(sid) }.is_some())
}

/// `EqualSid`: whether two valid SIDs are the same (the last error is 0 when they
/// differ, `ERROR_INVALID_SID` when one is invalid).
///
/// # Safety
/// Both are NULL or point to SIDs.
#[no_mangle]
pub unsafe extern "C" fn EqualSid(a: *mut c_void, b: *mut c_void) -> BOOL {
    // SAFETY: by the function's contract.
    let (a, b) = unsafe { (Sid::read(a), Sid::read(b)) };
    match (a, b) {
        (Some(a), Some(b)) => {
            error::set(err::SUCCESS);
            BOOL::from(a == b)
        }
        _ => {
            error::set(err::INVALID_SID);
            FALSE
        }
    }
}

/// `GetLengthSid`: 8 bytes and 4 per sub-authority.
///
/// # Safety
/// `sid` points to a valid SID.
#[no_mangle]
pub unsafe extern "C" fn GetLengthSid(sid: *mut c_void) -> DWORD {
    // SAFETY: by the function's contract.
    unsafe { Sid::read(sid) }.map_or(0, |s| s.len() as DWORD)
}

/// `CopySid`: copies a SID into a buffer of `len` bytes.
///
/// # Safety
/// `src` points to a SID, `dst` to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn CopySid(len: DWORD, dst: *mut c_void, src: *mut c_void) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let Some(s) = (unsafe { Sid::read(src) }) else {
            return error::fail(err::INVALID_SID);
        };
        let bytes = s.bytes();
        if (len as usize) < bytes.len() || dst.is_null() {
            return error::fail(err::INSUFFICIENT_BUFFER);
        }
        // SAFETY: `len` writable bytes, by the function's contract.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.cast::<u8>(), bytes.len()) };
        Ok(TRUE)
    })
}

/// `GetSidLengthRequired`: the bytes a SID of `count` sub-authorities takes.
#[no_mangle]
pub extern "C" fn GetSidLengthRequired(count: u8) -> DWORD {
    8 + 4 * DWORD::from(count)
}

/// `GetSidSubAuthority`: a pointer to sub-authority `index`.
///
/// # Safety
/// `sid` points to a SID with room for that sub-authority.
#[no_mangle]
pub unsafe extern "C" fn GetSidSubAuthority(sid: *mut c_void, index: DWORD) -> *mut DWORD {
    error::set(err::SUCCESS);
    // SAFETY: by the function's contract.
    unsafe { sid.cast::<u8>().add(8 + 4 * index as usize).cast() }
}

/// `GetSidSubAuthorityCount`: a pointer to the SID's count of sub-authorities.
///
/// # Safety
/// `sid` points to a SID.
#[no_mangle]
pub unsafe extern "C" fn GetSidSubAuthorityCount(sid: *mut c_void) -> *mut u8 {
    error::set(err::SUCCESS);
    // SAFETY: by the function's contract.
    unsafe { sid.cast::<u8>().add(1) }
}

/// `GetSidIdentifierAuthority`: a pointer to the SID's identifier authority.
///
/// # Safety
/// `sid` points to a SID.
#[no_mangle]
pub unsafe extern "C" fn GetSidIdentifierAuthority(sid: *mut c_void) -> *mut c_void {
    error::set(err::SUCCESS);
    // SAFETY: by the function's contract.
    unsafe { sid.cast::<u8>().add(2).cast() }
}

// ---- SDDL conversions ----------------------------------------------------------------

fn string_to_descriptor(
    text: Option<String>,
    revision: DWORD,
    out: *mut *mut c_void,
    size: *mut u32,
) -> Result<BOOL> {
    if revision != 1 {
        return error::fail(err::UNKNOWN_REVISION);
    }
    let (Some(text), false) = (text, out.is_null()) else {
        return error::fail(err::INVALID_PARAMETER);
    };
    let bytes = parse_sddl(&text)?.relative();
    let p = local_copy(&bytes)?;
    // SAFETY: `out` is non-NULL and writable; `size` NULL or writable, by the contract.
    unsafe {
        *out = p;
        if !size.is_null() {
            *size = bytes.len() as u32;
        }
    }
    Ok(TRUE)
}

/// `ConvertStringSecurityDescriptorToSecurityDescriptorA`: the self-relative descriptor
/// an SDDL string describes (`D:(A;;GA;;;WD)`, `D:P(A;;GA;;;SY)(A;;GA;;;BA)`...), to
/// free with `LocalFree`. A revision other than `SDDL_REVISION_1` is
/// `ERROR_UNKNOWN_REVISION`; a malformed entry, SID or right `ERROR_INVALID_ACL`; an
/// unknown part `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; `out` a writable pointer; `size` NULL or
/// a writable ULONG.
#[no_mangle]
pub unsafe extern "C" fn ConvertStringSecurityDescriptorToSecurityDescriptorA(
    text: *const c_char,
    revision: DWORD,
    out: *mut *mut c_void,
    size: *mut u32,
) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let text = unsafe { strings::narrow(text) }?;
        string_to_descriptor(text, revision, out, size)
    })
}

/// `ConvertStringSecurityDescriptorToSecurityDescriptorW`: the wide form.
///
/// # Safety
/// As for the A form, with a wide string.
#[no_mangle]
pub unsafe extern "C" fn ConvertStringSecurityDescriptorToSecurityDescriptorW(
    text: *const WCHAR,
    revision: DWORD,
    out: *mut *mut c_void,
    size: *mut u32,
) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let text = unsafe { strings::wide(text) }?;
        string_to_descriptor(text, revision, out, size)
    })
}

fn string_to_sid(text: Option<String>, out: *mut *mut c_void) -> Result<BOOL> {
    let (Some(text), false) = (text, out.is_null()) else {
        return error::fail(err::INVALID_PARAMETER);
    };
    let Some(sid) = Sid::parse(text.trim()) else {
        return error::fail(err::INVALID_SID);
    };
    let p = local_copy(&sid.bytes())?;
    // SAFETY: `out` is non-NULL and writable, by the contract.
    unsafe { *out = p };
    Ok(TRUE)
}

/// `ConvertStringSidToSidA`: the SID of `S-1-...` or of an SDDL alias (`WD`, `BA`...),
/// to free with `LocalFree`; `ERROR_INVALID_SID` for anything else.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; `out` a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn ConvertStringSidToSidA(
    text: *const c_char,
    out: *mut *mut c_void,
) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let text = unsafe { strings::narrow(text) }?;
        string_to_sid(text, out)
    })
}

/// `ConvertStringSidToSidW`: the wide form.
///
/// # Safety
/// As for the A form, with a wide string.
#[no_mangle]
pub unsafe extern "C" fn ConvertStringSidToSidW(text: *const WCHAR, out: *mut *mut c_void) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let text = unsafe { strings::wide(text) }?;
        string_to_sid(text, out)
    })
}

/// `ConvertSidToStringSidA`: the `S-1-...` text of a SID, to free with `LocalFree`.
///
/// # Safety
/// `sid` is NULL or a SID; `out` a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn ConvertSidToStringSidA(sid: *mut c_void, out: *mut *mut c_char) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let Some(s) = (unsafe { Sid::read(sid) }) else {
            return error::fail(err::INVALID_SID);
        };
        if out.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let mut text = s.to_text().into_bytes();
        text.push(0);
        let p = local_copy(&text)?;
        // SAFETY: `out` is writable, by the function's contract.
        unsafe { *out = p.cast() };
        Ok(TRUE)
    })
}

/// `ConvertSidToStringSidW`: the wide form.
///
/// # Safety
/// As for the A form.
#[no_mangle]
pub unsafe extern "C" fn ConvertSidToStringSidW(sid: *mut c_void, out: *mut *mut WCHAR) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let Some(s) = (unsafe { Sid::read(sid) }) else {
            return error::fail(err::INVALID_SID);
        };
        if out.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let wide: Vec<WCHAR> = s.to_text().chars().map(|c| c as WCHAR).chain([0]).collect();
        // SAFETY: reinterpreting the wide characters as bytes for the copy.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                wide.as_ptr().cast::<u8>(),
                wide.len() * std::mem::size_of::<WCHAR>(),
            )
        };
        let p = local_copy(bytes)?;
        // SAFETY: `out` is writable, by the function's contract.
        unsafe { *out = p.cast() };
        Ok(TRUE)
    })
}

// ---- from a descriptor to permissions ----------------------------------------------------

/// The kinds of object a descriptor may be given to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Mapping,
    Mutex,
    Event,
    Semaphore,
}

impl ObjectKind {
    /// The rights the generic ones stand for (Windows' generic mapping of the kind).
    fn generic(self) -> [u32; 4] {
        const SR: u32 = READ_CONTROL;
        match self {
            // SECTION_QUERY | SECTION_MAP_READ, SECTION_MAP_WRITE, SECTION_MAP_EXECUTE,
            // SECTION_ALL_ACCESS.
            ObjectKind::Mapping => [
                SR | 0x5,
                SR | 0x2,
                SR | 0x8,
                STANDARD_RIGHTS_REQUIRED | 0x1F,
            ],
            ObjectKind::Mutex => [
                SR | 0x1,
                SR,
                SR | SYNCHRONIZE,
                STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1,
            ],
            ObjectKind::Event | ObjectKind::Semaphore => [
                SR | 0x1,
                SR | 0x2,
                SR | SYNCHRONIZE,
                STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3,
            ],
        }
    }

    fn map_generic(self, mask: u32) -> u32 {
        let g = self.generic();
        let mut m = mask & 0x0FFF_FFFF;
        for (bit, rights) in [
            GENERIC_READ_RIGHT,
            GENERIC_WRITE_RIGHT,
            GENERIC_EXECUTE_RIGHT,
            GENERIC_ALL_RIGHT,
        ]
        .into_iter()
        .zip(g)
        {
            if mask & bit != 0 {
                m |= rights;
            }
        }
        m
    }

    /// The read (4) and write (2) bits that a class with `rights` gets.
    fn bits(self, rights: u32) -> u32 {
        let (read, write) = match self {
            ObjectKind::Mapping => (rights & 0x4 != 0, rights & 0x2 != 0),
            ObjectKind::Mutex => (rights & SYNCHRONIZE != 0, rights & SYNCHRONIZE != 0),
            ObjectKind::Event | ObjectKind::Semaphore => {
                (rights & SYNCHRONIZE != 0, rights & 0x2 != 0)
            }
        };
        (if read { 4 } else { 0 }) | (if write { 2 } else { 0 })
    }
}

/// Who the creating process is, for matching SIDs to the classes of the permissions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Creator {
    pub uid: u32,
    pub gid: u32,
}

impl Creator {
    fn current() -> Creator {
        // SAFETY: geteuid and getegid have no preconditions.
        unsafe {
            Creator {
                uid: libc::geteuid(),
                gid: libc::getegid(),
            }
        }
    }
}

/// The class a SID stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Group,
    Everyone,
    /// Local System and Administrators: root.
    Root,
    /// Matches nobody on the object itself (Creator Owner, Creator Group).
    Nobody,
}

fn who(sid: &Sid, c: Creator) -> Option<Who> {
    let s = |auth: u64, subs: &[u32]| sid.auth == auth && sid.subs == subs;
    Some(if s(22, &[1, c.uid]) || s(3, &[4]) {
        Who::Owner
    } else if s(22, &[2, c.gid]) {
        Who::Group
    } else if s(1, &[0])
        || s(5, &[11])
        || s(5, &[32, 545])
        || s(5, &[4])
        || s(2, &[0])
        || s(2, &[1])
    {
        Who::Everyone
    } else if s(5, &[18]) || s(5, &[32, 544]) {
        Who::Root
    } else if s(3, &[0]) || s(3, &[1]) || s(3, &[2]) || s(3, &[3]) {
        Who::Nobody
    } else {
        return None;
    })
}

/// The permission bits (`0o777` style) a descriptor gives an object of `kind` created
/// by `creator`; `None` when it has no DACL (the default permissions).
fn permissions(d: &Descriptor, kind: ObjectKind, creator: Creator) -> Result<Option<u32>> {
    let bad = || error::Win32Error(err::INVALID_SECURITY_DESCR);
    if let Some(owner) = &d.owner {
        let mine = matches!(who(owner, creator), Some(Who::Owner))
            || (creator.uid == 0 && matches!(who(owner, creator), Some(Who::Root)));
        if !mine {
            return error::fail(err::INVALID_OWNER);
        }
    }
    if let Some(Some(sacl)) = &d.sacl {
        for ace in &sacl.aces {
            match ace.kind {
                SYSTEM_MANDATORY_LABEL => {}
                SYSTEM_AUDIT | SYSTEM_ALARM => return error::fail(err::PRIVILEGE_NOT_HELD),
                _ => return Err(bad()),
            }
        }
    }
    let acl = match &d.dacl {
        None => return Ok(None),
        Some(None) => return Ok(Some(0o666)),
        Some(Some(acl)) => acl,
    };
    let root = creator.uid == 0;
    // Each class's rights, decided entry by entry: (granted, denied).
    let mut state = [(0u32, 0u32); 3];
    for ace in &acl.aces {
        if !matches!(ace.kind, ACCESS_ALLOWED | ACCESS_DENIED) {
            return Err(bad());
        }
        if ace.flags & INHERIT_ONLY_ACE != 0 {
            continue;
        }
        let sid = ace.sid.as_ref().ok_or_else(bad)?;
        let w = who(sid, creator).ok_or_else(bad)?;
        // The classes (owner 0, group 1, others 2) the entry applies to.
        let classes: &[usize] = match w {
            Who::Owner => &[0],
            Who::Group => &[0, 1],
            Who::Everyone => &[0, 1, 2],
            // Root is not bound by the permissions: it cannot be denied.
            Who::Root if ace.kind == ACCESS_DENIED => return Err(bad()),
            Who::Root if root => &[0],
            Who::Root | Who::Nobody => &[],
        };
        let rights = kind.map_generic(ace.mask);
        for &c in classes {
            let (granted, denied) = &mut state[c];
            let undecided = rights & !(*granted | *denied);
            if ace.kind == ACCESS_ALLOWED {
                *granted |= undecided;
            } else {
                *denied |= undecided;
            }
        }
    }
    let bits = |c: usize| kind.bits(state[c].0);
    Ok(Some((bits(0) << 6) | (bits(1) << 3) | bits(2)))
}

/// The permissions `SECURITY_ATTRIBUTES.lpSecurityDescriptor` gives a new object of
/// `kind`: `None` for no attributes, no descriptor or no DACL (the default, the
/// creating user only); an error for a descriptor permissions cannot express (see the
/// module documentation).
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES` whose descriptor is NULL or valid.
pub(crate) unsafe fn permissions_of(
    sa: *const SECURITY_ATTRIBUTES,
    kind: ObjectKind,
) -> Result<Option<u32>> {
    if sa.is_null() {
        return Ok(None);
    }
    // SAFETY: by the caller's contract.
    let sd = unsafe { (*sa).lpSecurityDescriptor };
    if sd.is_null() {
        return Ok(None);
    }
    // SAFETY: as above.
    let d = unsafe { Descriptor::read(sd) }?;
    permissions(&d, kind, Creator::current())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Creator = Creator {
        uid: 1000,
        gid: 100,
    };

    fn bits_of(sddl: &str, kind: ObjectKind) -> Result<Option<u32>> {
        permissions(&parse_sddl(sddl)?, kind, ME)
    }

    #[test]
    fn sddl_round_trips_through_the_self_relative_form() {
        for text in [
            "D:(A;;GA;;;WD)",
            "D:P(A;;GA;;;SY)(A;;GA;;;BA)",
            "O:BAG:SYD:(A;;0x1f0003;;;WD)",
            "D:NO_ACCESS_CONTROL",
            "S:(ML;;NW;;;LW)",
        ] {
            let d = parse_sddl(text).unwrap();
            let bytes = d.relative();
            // SAFETY: `bytes` is a complete self-relative descriptor.
            let back = unsafe { Descriptor::read(bytes.as_ptr().cast()) }.unwrap();
            assert_eq!(back, d, "{text}");
        }
        // As Windows (and Wine) sizes them.
        assert_eq!(parse_sddl("D:(A;;GA;;;WD)").unwrap().relative().len(), 48);
        assert_eq!(
            parse_sddl("D:P(A;;GA;;;SY)(A;;GA;;;BA)")
                .unwrap()
                .relative()
                .len(),
            72
        );
        assert_eq!(parse_sddl("").unwrap().relative().len(), 20);
        assert_eq!(parse_sddl("D:").unwrap().relative().len(), 28);
    }

    #[test]
    fn malformed_sddl_fails_as_wine_reports_it() {
        let code = |s: &str| parse_sddl(s).unwrap_err().0;
        assert_eq!(code("D:(A;;GA;;;WDD)"), err::INVALID_ACL);
        assert_eq!(code("D:(A;;XYZ;;;WD)"), err::INVALID_ACL);
        assert_eq!(code("D:(A;;GA;;WD)"), err::INVALID_ACL);
        assert_eq!(code("D:(A;;GA;;;WD"), err::INVALID_ACL);
        assert_eq!(code("X:(A;;GA;;;WD)"), err::INVALID_PARAMETER);
        assert!(parse_sddl(" D:(A; ;123;;;S-1-1-0)").is_ok());
    }

    #[test]
    fn the_dacl_becomes_each_class_bits() {
        use ObjectKind::*;
        assert_eq!(bits_of("", Mapping).unwrap(), None);
        assert_eq!(
            bits_of("D:NO_ACCESS_CONTROL", Mapping).unwrap(),
            Some(0o666)
        );
        assert_eq!(bits_of("D:", Mapping).unwrap(), Some(0));
        assert_eq!(bits_of("D:(A;;GA;;;WD)", Mapping).unwrap(), Some(0o666));
        assert_eq!(bits_of("D:(A;;GR;;;WD)", Mapping).unwrap(), Some(0o444));
        assert_eq!(
            bits_of("D:(A;;GA;;;OW)(A;;GR;;;WD)", Mapping).unwrap(),
            Some(0o644)
        );
        assert_eq!(
            bits_of("D:(D;;GW;;;WD)(A;;GA;;;WD)", Event).unwrap(),
            Some(0o444)
        );
        assert_eq!(
            bits_of("D:P(A;;GA;;;SY)(A;;GA;;;BA)", Mutex).unwrap(),
            Some(0)
        );
        assert_eq!(bits_of("D:(A;;GA;;;CO)", Mutex).unwrap(), Some(0));
        assert_eq!(bits_of("D:(A;;FA;;;WD)", Semaphore).unwrap(), Some(0o666));
        assert_eq!(bits_of("D:(A;;FR;;;WD)", Mapping).unwrap(), Some(0));
        assert_eq!(bits_of("D:(A;IO;GA;;;WD)", Mapping).unwrap(), Some(0));
        assert_eq!(
            bits_of("D:(A;;GA;;;S-1-22-2-100)", Mapping).unwrap(),
            Some(0o660)
        );
        // What permissions cannot say.
        let code = |s: &str| bits_of(s, Mapping).unwrap_err().0;
        assert_eq!(code("D:(A;;GA;;;BG)"), err::INVALID_SECURITY_DESCR);
        assert_eq!(code("D:(D;;GA;;;BA)"), err::INVALID_SECURITY_DESCR);
        assert_eq!(code("O:BAD:(A;;GA;;;WD)"), err::INVALID_OWNER);
        assert_eq!(code("S:(AU;SA;GA;;;WD)"), err::PRIVILEGE_NOT_HELD);
        assert_eq!(bits_of("S:(ML;;NW;;;LW)", Mapping).unwrap(), None);
    }

    /// The core's Windows backend writes these for permission bits; reading them back
    /// gives the same bits.
    #[test]
    fn the_windows_backends_descriptors_read_back_as_their_bits() {
        let user = "S-1-22-1-1000";
        let group = "S-1-22-2-100";
        let cases = [
            (0o600, format!("D:P(A;;0x7;;;{user})")),
            (0o640, format!("D:P(A;;0xf0007;;;{user})(A;;0x5;;;{group})")),
            (
                0o046,
                format!("D:P(D;;0x7;;;{user})(A;;0x5;;;{group})(D;;0x2;;;{group})(A;;0x7;;;WD)"),
            ),
            (
                0o664,
                format!("D:P(A;;0x7;;;{user})(A;;0x7;;;{group})(A;;0x5;;;WD)"),
            ),
        ];
        for (mode, sddl) in cases {
            assert_eq!(
                bits_of(&sddl, ObjectKind::Mapping).unwrap(),
                Some(mode),
                "{sddl}"
            );
        }
    }
}
