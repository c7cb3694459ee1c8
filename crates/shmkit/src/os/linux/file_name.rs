//! How an object's name becomes a file name in its namespace directory (Linux only):
//! a one-to-one, case-keeping spelling that is always one path component.

use crate::name::Name;

/// The file name that stands for the object `name` in its namespace directory.
///
/// Bytes outside `[A-Za-z0-9._-]` are written `%XX`, so the map is one-to-one and
/// case is kept. A spelling longer than fits in a file name is replaced by `h.` and the
/// SHA-256 of the BASE; the object's header keeps the full name, which is checked on
/// open, so a collision could never hand out the wrong object.
pub(crate) fn file_name(name: &Name) -> String {
    encode_base(name.base())
}

/// Longest object file name before hashing (NAME_MAX is 255).
const MAX_FILE_NAME: usize = 200;

pub(super) const OBJECT_PREFIX: &str = "o.";
pub(super) const HASHED_PREFIX: &str = "h.";

fn encode_base(base: &str) -> String {
    let mut out = String::with_capacity(OBJECT_PREFIX.len() + base.len());
    out.push_str(OBJECT_PREFIX);
    for &b in base.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        if out.len() > MAX_FILE_NAME {
            return hashed(base);
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hashed(base: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(base.as_bytes());
    let mut out = String::from(HASHED_PREFIX);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Decodes a file name written by [`file_name`]; `None` for hashed or foreign names,
/// which include every other spelling of a name (`o.%41` for `o.A`, `o.%2f` for
/// `o.%2F`, an unescaped byte): listings must not show a stray file as an object.
pub(crate) fn decode_file_name(file: &str) -> Option<String> {
    let enc = file.strip_prefix(OBJECT_PREFIX)?;
    let bytes = enc.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = enc.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .ok()
        // Only a BASE a name may have: not empty, no NUL, no backslash.
        .filter(|base| !base.is_empty() && !base.contains(['\0', '\\']))
        .filter(|base| encode_base(base) == file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    trait FileName {
        fn file_name_(&self) -> String;
    }
    impl FileName for Name {
        fn file_name_(&self) -> String {
            file_name(self)
        }
    }

    #[test]
    fn a_bare_name_is_its_local_name_and_case_counts() {
        assert_eq!(
            Name::parse("a").unwrap().file_name_(),
            Name::parse("Local\\a").unwrap().file_name_()
        );
        assert_ne!(
            Name::parse("Abc").unwrap().file_name_(),
            Name::parse("abc").unwrap().file_name_()
        );
    }

    #[test]
    fn any_character_but_backslash_and_nul() {
        for base in [
            "a/b",
            "c:d",
            "*",
            "?",
            "with space",
            "..",
            ".",
            "ünïcødé",
            "%41",
            "/",
        ] {
            let n = Name::parse(&format!("Global\\{base}")).unwrap();
            assert_eq!(n.base(), base);
            let f = n.file_name_();
            assert!(
                !f.contains('/') && f != "." && f != ".." && f.len() <= 255,
                "{f}"
            );
            assert_eq!(decode_file_name(&f).as_deref(), Some(base));
        }
    }
    #[test]
    fn long_names_are_hashed_and_distinct() {
        let a = Name::parse(&"é".repeat(200)).unwrap().file_name_();
        let b = Name::parse(&format!("{}e", "é".repeat(199)))
            .unwrap()
            .file_name_();
        assert!(a.starts_with(HASHED_PREFIX) && a.len() <= 255);
        assert_ne!(a, b);
        assert_eq!(decode_file_name(&a), None);
    }

    /// Found by the `name` fuzz target: the decoder took any `%` escape `from_str_radix`
    /// reads (`%+1`, lower case), unescaped bytes, and escapes of NUL and backslash, so a
    /// stray file decoded to the name of another object, or to no name at all.
    #[test]
    fn decode_file_name_refuses_spellings_file_name_never_writes() {
        for foreign in [
            "o.a b", "o.\u{e9}", "o.%41", "o.%2f", "o.%+1", "o.%2", "o.", "x.a",
        ] {
            assert_eq!(decode_file_name(foreign), None, "{foreign:?}");
        }
        let long = format!("o.{}", "a".repeat(MAX_FILE_NAME));
        assert_eq!(
            decode_file_name(&long),
            None,
            "longer than any unhashed name"
        );
        assert_eq!(decode_file_name("o.a%20b%2F").as_deref(), Some("a b/"));
    }

    proptest! {
        #[test]
        fn valid_bases_round_trip(base in "[^\\\\\u{0}]{1,120}") {
            let n = Name::parse(&format!("Global\\{base}")).unwrap();
            prop_assert_eq!(n.base(), base.as_str());
            let f = n.file_name_();
            prop_assert!(f.len() <= 255 && !f.contains('/'));
            if let Some(d) = decode_file_name(&f) {
                prop_assert_eq!(d, base);
            } else {
                prop_assert!(f.starts_with(HASHED_PREFIX));
            }
        }

        #[test]
        fn distinct_bases_get_distinct_files(a in "[^\\\\\u{0}]{1,60}", b in "[^\\\\\u{0}]{1,60}") {
            prop_assume!(a != b);
            prop_assert_ne!(Name::parse(&a).unwrap().file_name_(), Name::parse(&b).unwrap().file_name_());
        }

    }
}
