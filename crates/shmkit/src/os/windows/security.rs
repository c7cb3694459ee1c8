//! Security descriptors from Unix-style permission bits.
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

use super::sys::{self, last_error, wide};
use std::ffi::c_void;
use std::fmt::Write as _;
use std::io;
use windows_sys::Win32::Foundation::LocalFree;
use windows_sys::Win32::Security::Authorization::{
    ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;

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
    let id = sys::identity()?;
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
        let id = sys::identity().unwrap();
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
        let id = sys::identity().unwrap();
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
