//! Security: the descriptors made from Unix-style permission bits, and the owner check
//! of an object a create call finds (squatting, SPEC 2.1).
//!
//! The bits `0o640` style become a DACL with one entry per class, in this order:
//!
//! | entry | SID | rights |
//! |---|---|---|
//! | allow | the creating user (`TokenUser`) | the owner bits |
//! | deny | the creating user | what group or others have and the owner bits lack |
//! | allow | the creator's primary group (`TokenPrimaryGroup`) | the group bits |
//! | deny | that group | what others have and the group bits lack |
//! | allow | Everyone (`WD`) | the others bits |
//!
//! Windows evaluates the entries in order, so each class gets exactly its own bits, as
//! on Unix where the first matching class decides (a deny entry is left out when it
//! would deny nothing; the group entries when the primary group is the user itself).
//! The DACL is protected (`P`): nothing is inherited from the namespace directory. The
//! default `0o600` thus lets only the creating user open the object. The owner keeps
//! the owner's implicit right to read and change the DACL.
//!
//! "Read" and "write" mean, per kind of object (see [`Rights`]): for a mapping, mapping
//! views for reading (and querying its size) or for writing; for a file of the
//! persistent store, the generic file rights.
//!
//! The SIDs come from the calling process's token, read once ([`identity`]); an object
//! counts as the caller's when its owner is the token's user or the token's default owner
//! ([`owned_by_caller`]).

use super::sys::{last_error, owned, wide};
use std::ffi::c_void;
use std::fmt::Write as _;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::sync::OnceLock;
use windows_sys::Win32::Foundation::{LocalFree, HANDLE};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, GetSecurityInfo,
    SDDL_REVISION_1, SE_FILE_OBJECT, SE_KERNEL_OBJECT,
};
use windows_sys::Win32::Security::{
    EqualSid, GetTokenInformation, TokenOwner, TokenPrimaryGroup, TokenUser,
    OWNER_SECURITY_INFORMATION, PSID, SECURITY_ATTRIBUTES, TOKEN_QUERY,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// The access rights that "read" and "write" grant for one kind of object.
#[derive(Clone, Copy)]
pub(crate) struct Rights {
    pub read: u32,
    pub write: u32,
    /// Rights the owner always has (for example deleting a file).
    pub owner_extra: u32,
}

/// A self-relative security descriptor, freed on drop.
pub(crate) struct Descriptor {
    sd: *mut c_void,
}

impl Descriptor {
    /// The descriptor for `permissions` (at most `0o777`; the execute bits mean
    /// nothing here). `writable` false grants no write right to anyone: an object whose
    /// protection forbids writing refuses read-write opens up front.
    pub(crate) fn new(permissions: u32, rights: Rights, writable: bool) -> io::Result<Descriptor> {
        let sddl = sddl(permissions, rights, writable)?;
        let text = wide(&sddl);
        let mut sd: *mut c_void = std::ptr::null_mut();
        // SAFETY: `text` is a NUL-terminated UTF-16 string; `sd` receives a descriptor
        // allocated with LocalAlloc, freed in Drop.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                text.as_ptr(),
                SDDL_REVISION_1,
                &mut sd,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(last_error());
        }
        Ok(Descriptor { sd })
    }

    /// Security attributes pointing at this descriptor.
    pub(crate) fn attributes(&self, inherit: bool) -> SECURITY_ATTRIBUTES {
        SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: self.sd,
            bInheritHandle: i32::from(inherit),
        }
    }
}

impl Drop for Descriptor {
    fn drop(&mut self) {
        // SAFETY: `sd` was allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW
        // and is freed once, here.
        unsafe { LocalFree(self.sd) };
    }
}

fn mask(bits: u32, rights: Rights, writable: bool) -> u32 {
    let mut m = 0;
    if bits & 0o4 != 0 {
        m |= rights.read;
    }
    if bits & 0o2 != 0 && writable {
        m |= rights.write;
    }
    m
}

/// The SDDL text of the descriptor (see the module documentation).
pub(crate) fn sddl(permissions: u32, rights: Rights, writable: bool) -> io::Result<String> {
    let id = identity()?;
    let owner = mask(permissions >> 6, rights, writable);
    let group = mask(permissions >> 3, rights, writable);
    let others = mask(permissions, rights, writable);
    let mut s = String::from("D:P");
    let mut ace = |kind: char, m: u32, sid: &str| {
        if m != 0 {
            let _ = write!(s, "({kind};;0x{m:x};;;{sid})");
        }
    };
    ace('A', owner | rights.owner_extra, &id.user);
    if id.group == id.user {
        ace('D', others & !owner, &id.user);
    } else {
        ace('D', (group | others) & !owner, &id.user);
        ace('A', group, &id.group);
        ace('D', others & !group, &id.group);
    }
    ace('A', others, "WD");
    Ok(s)
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
        SE_FILE_OBJECT
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

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rights = Rights {
        read: 0x4,
        write: 0x2,
        owner_extra: 0,
    };

    #[test]
    fn owner_only_by_default() {
        let id = identity().unwrap();
        assert_eq!(
            sddl(0o600, R, true).unwrap(),
            format!("D:P(A;;0x6;;;{})", id.user)
        );
        // A read-only object grants no write right, even to its owner.
        assert_eq!(
            sddl(0o600, R, false).unwrap(),
            format!("D:P(A;;0x4;;;{})", id.user)
        );
    }

    #[test]
    fn each_class_gets_its_own_bits() {
        let id = identity().unwrap();
        let s = sddl(0o046, R, true).unwrap();
        assert!(s.starts_with("D:P("), "{s}");
        assert!(s.ends_with("(A;;0x6;;;WD)"), "{s}");
        // The owner has no right, and is denied what others have.
        assert!(s.contains(&format!("(D;;0x6;;;{})", id.user)), "{s}");
        assert!(!s.contains(&format!("(A;;0x6;;;{})", id.user)), "{s}");
        if id.group != id.user {
            assert!(s.contains(&format!("(A;;0x4;;;{})", id.group)), "{s}");
            assert!(s.contains(&format!("(D;;0x2;;;{})", id.group)), "{s}");
        }
        Descriptor::new(0o046, R, true).unwrap();
    }
}
