//! Object names and namespaces (SPEC.md section 1). Pure code, no system calls.
//!
//! A name is `Global\BASE`, `Local\BASE` or a bare `BASE`, which means `Local\BASE`.
//! `BASE` may hold any character but backslash and NUL. Names are case-sensitive,
//! prefixes included. The whole name is at most `MAX_PATH` (260) UTF-16 code units, the
//! unit Windows counts in.

use crate::error::{code, Error, ErrorKind, Result};
use std::fmt;

/// `MAX_PATH`: the longest name, in UTF-16 code units, prefix included.
pub const MAX_NAME_LEN: usize = 260;

/// Where a named object lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    /// `Global\`: visible to every user, subject to the object's permissions.
    Global,
    /// `Local\` (and bare names): private to the creating user.
    Local,
}

impl Namespace {
    /// The prefix as written in names: `Global` or `Local`.
    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::Global => "Global",
            Namespace::Local => "Local",
        }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated object name.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name {
    namespace: Namespace,
    /// The name as the caller wrote it (used in messages).
    given: String,
    /// Byte offset of BASE within `given`.
    base_at: usize,
}

impl Name {
    /// Checks `name` against every rule of SPEC.md section 1.
    ///
    /// Errors are all [`ErrorKind::InvalidName`]; the Win32 code tells which rule:
    /// 206 for a name over `MAX_PATH`, 3 for an unknown prefix or a backslash inside BASE,
    /// 123 for an empty BASE or a NUL character.
    pub fn parse(name: &str) -> Result<Name> {
        let units = name.encode_utf16().count();
        if units > MAX_NAME_LEN {
            return Err(Error::with_code(
                ErrorKind::InvalidName,
                code::FILENAME_EXCED_RANGE,
                format!(
                    "invalid name {}: {units} characters, more than the {MAX_NAME_LEN} allowed",
                    quoted(&abbreviate(name))
                ),
            ));
        }
        if name.contains('\0') {
            return Err(Error::with_code(
                ErrorKind::InvalidName,
                code::INVALID_NAME,
                format!(
                    "invalid name {}: names cannot contain a NUL character",
                    quoted(name)
                ),
            ));
        }
        let (namespace, base_at) = match name.find('\\') {
            None => (Namespace::Local, 0),
            Some(i) => {
                let namespace = match &name[..i] {
                    "Global" => Namespace::Global,
                    "Local" => Namespace::Local,
                    other => {
                        return Err(Error::with_code(
                            ErrorKind::InvalidName,
                            code::PATH_NOT_FOUND,
                            format!(
                                "invalid name {}: unknown namespace {} \
                                 (use Global\\ or Local\\, case-sensitive)",
                                quoted(name),
                                quoted(other)
                            ),
                        ))
                    }
                };
                (namespace, i + 1)
            }
        };
        let base = &name[base_at..];
        if base.is_empty() {
            return Err(Error::with_code(
                ErrorKind::InvalidName,
                code::INVALID_NAME,
                format!(
                    "invalid name {}: the name after the namespace is empty",
                    quoted(name)
                ),
            ));
        }
        if base.contains('\\') {
            return Err(Error::with_code(
                ErrorKind::InvalidName,
                code::PATH_NOT_FOUND,
                format!(
                    "invalid name {}: a backslash may only follow the namespace",
                    quoted(name)
                ),
            ));
        }
        Ok(Name {
            namespace,
            given: name.to_owned(),
            base_at,
        })
    }

    /// The error for a missing name where one is required (ERROR_INVALID_PARAMETER).
    pub(crate) fn missing(what: &str) -> Error {
        Error::with_code(
            ErrorKind::InvalidName,
            code::INVALID_PARAMETER,
            format!("{what}: a name is required"),
        )
    }

    /// The namespace the name lives in.
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    /// The part after the namespace prefix.
    pub fn base(&self) -> &str {
        &self.given[self.base_at..]
    }

    /// The name as the caller wrote it.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The name with its namespace spelled out: `Local\x` for a bare `x`.
    pub fn full(&self) -> String {
        format!("{}\\{}", self.namespace, self.base())
    }

    /// The file name that stands for this object in its namespace directory.
    ///
    /// Bytes outside `[A-Za-z0-9._-]` are written `%XX`, so the map is one-to-one and
    /// case is kept. A spelling longer than fits in a file name is replaced by `h.` and the
    /// SHA-256 of the BASE; the object's header keeps the full name, which is checked on
    /// open, so a collision could never hand out the wrong object.
    pub fn file_name(&self) -> String {
        encode_base(self.base())
    }
}

/// Longest object file name before hashing (NAME_MAX is 255).
const MAX_FILE_NAME: usize = 200;

pub(crate) const OBJECT_PREFIX: &str = "o.";
pub(crate) const HASHED_PREFIX: &str = "h.";

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

/// Decodes a file name written by [`Name::file_name`]; `None` for hashed or foreign names.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
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
    String::from_utf8(out).ok()
}

/// A name in quotes for messages: control characters escaped, backslashes kept as they
/// are (`"Local\x"`, not `"Local\\x"` as `{:?}` would print).
pub(crate) fn quoted(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn abbreviate(name: &str) -> String {
    if name.chars().count() <= 40 {
        name.to_owned()
    } else {
        let head: String = name.chars().take(32).collect();
        format!("{head}...")
    }
}

/// Prints the name in quotes, as messages show it.
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quoted(&self.given))
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code_of(name: &str) -> u32 {
        let e = Name::parse(name).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{name:?}");
        if e.win32_code() != code::FILENAME_EXCED_RANGE {
            assert!(
                e.to_string().contains(&quoted(name)),
                "message names the object: {e}"
            );
        }
        e.win32_code()
    }

    #[test]
    fn namespaces() {
        let n = Name::parse("Global\\a").unwrap();
        assert_eq!((n.namespace(), n.base()), (Namespace::Global, "a"));
        let n = Name::parse("Local\\a").unwrap();
        assert_eq!((n.namespace(), n.base()), (Namespace::Local, "a"));
        let n = Name::parse("a").unwrap();
        assert_eq!((n.namespace(), n.base()), (Namespace::Local, "a"));
        assert_eq!(n.full(), "Local\\a");
        assert_eq!(
            Name::parse("a").unwrap().file_name(),
            Name::parse("Local\\a").unwrap().file_name()
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
            let f = n.file_name();
            assert!(
                !f.contains('/') && f != "." && f != ".." && f.len() <= 255,
                "{f}"
            );
            assert_eq!(decode_file_name(&f).as_deref(), Some(base));
        }
    }

    #[test]
    fn case_sensitive() {
        assert_ne!(
            Name::parse("Abc").unwrap().file_name(),
            Name::parse("abc").unwrap().file_name()
        );
        assert_eq!(code_of("local\\x"), code::PATH_NOT_FOUND);
        assert_eq!(code_of("GLOBAL\\x"), code::PATH_NOT_FOUND);
    }

    #[test]
    fn refused_names() {
        assert_eq!(code_of("Bogus\\x"), code::PATH_NOT_FOUND);
        assert_eq!(code_of("\\x"), code::PATH_NOT_FOUND);
        assert_eq!(code_of("Global\\a\\b"), code::PATH_NOT_FOUND);
        assert_eq!(code_of("Local\\"), code::INVALID_NAME);
        assert_eq!(code_of("Global\\"), code::INVALID_NAME);
        assert!(Name::parse("").is_err());
        assert_eq!(
            Name::parse("").unwrap_err().win32_code(),
            code::INVALID_NAME
        );
        assert_eq!(code_of("a\0b"), code::INVALID_NAME);
        let long = format!("Local\\{}", "x".repeat(255));
        assert_eq!(code_of(&long), code::FILENAME_EXCED_RANGE);
        assert_eq!(
            Name::missing("OpenFileMapping").win32_code(),
            code::INVALID_PARAMETER
        );
    }

    #[test]
    fn length_limit_is_max_path_in_utf16_units() {
        assert!(
            Name::parse(&"x".repeat(255)).is_ok(),
            "255 characters are fine"
        );
        assert!(Name::parse(&"x".repeat(260)).is_ok());
        assert_eq!(code_of(&"x".repeat(261)), code::FILENAME_EXCED_RANGE);
        assert!(Name::parse(&format!("Local\\{}", "x".repeat(254))).is_ok());
        // U+1F600 is two UTF-16 units.
        assert!(Name::parse(&"\u{1F600}".repeat(130)).is_ok());
        assert_eq!(
            code_of(&"\u{1F600}".repeat(131)),
            code::FILENAME_EXCED_RANGE
        );
    }

    #[test]
    fn long_names_are_hashed_and_distinct() {
        let a = Name::parse(&"é".repeat(200)).unwrap().file_name();
        let b = Name::parse(&format!("{}e", "é".repeat(199)))
            .unwrap()
            .file_name();
        assert!(a.starts_with(HASHED_PREFIX) && a.len() <= 255);
        assert_ne!(a, b);
        assert_eq!(decode_file_name(&a), None);
    }

    proptest! {
        #[test]
        fn valid_bases_round_trip(base in "[^\\\\\u{0}]{1,120}") {
            let n = Name::parse(&format!("Global\\{base}")).unwrap();
            prop_assert_eq!(n.base(), base.as_str());
            let f = n.file_name();
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
            prop_assert_ne!(Name::parse(&a).unwrap().file_name(), Name::parse(&b).unwrap().file_name());
        }

        #[test]
        fn parse_never_panics(s in ".{0,300}") {
            let _ = Name::parse(&s);
        }
    }
}
