//! Object names and namespaces (docs/SPEC.md section 1). Pure code, no system calls.
//!
//! A name is `Global\BASE`, `Local\BASE` or a bare `BASE`, which means `Local\BASE`.
//! `BASE` may hold any character but backslash and NUL. Names are case-sensitive,
//! prefixes included. The whole name is at most `MAX_PATH` (260) UTF-16 code units, the
//! unit Windows counts in.

use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::Kind;
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
    /// Checks `name` against every rule of docs/SPEC.md section 1.
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

    /// A name read back in its full spelling ([`Name::full`]), as object headers and
    /// tokens keep it. A bare name may have up to [`MAX_NAME_LEN`] units, so its full
    /// spelling may pass the limit by the `Local\` that `full` adds: that is still the
    /// name, and reads back as it.
    #[cfg_attr(windows, allow(dead_code))] // only the Linux object headers keep names
    pub(crate) fn parse_full(full: &str) -> Result<Name> {
        const LOCAL: &str = "Local\\";
        if let Some(bare) = full.strip_prefix(LOCAL) {
            if let Ok(n) = Name::parse(bare) {
                // `bare` had no backslash: it is the BASE of a bare name.
                if n.base_at == 0 {
                    return Ok(Name {
                        namespace: Namespace::Local,
                        given: full.to_owned(),
                        base_at: LOCAL.len(),
                    });
                }
            }
        }
        Name::parse(full)
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
}

/// A name in quotes for messages: control characters escaped, backslashes kept as they
/// are (`"Local\x"`, not `"Local\\x"` as `{:?}` would print). Every message of the
/// library and of its faces shows names this way.
pub fn quoted(name: &str) -> String {
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

/// `mutex "Local\x"` or `unnamed mutex`: how messages name an object.
pub(crate) fn label(kind: Kind, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{kind} {}", quoted(n)),
        None => format!("unnamed {kind}"),
    }
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
    }

    #[test]
    fn case_sensitive() {
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

    /// Found by the `name` fuzz target: the full spelling of a bare name of 255 to 260
    /// characters is over `MAX_PATH`, and did not read back from the object's header.
    #[test]
    fn the_full_spelling_of_every_name_reads_back_as_it() {
        for given in [
            "x".repeat(260),
            "x".repeat(255),
            format!("Local\\{}", "x".repeat(254)),
            format!("Global\\{}", "x".repeat(253)),
            "a".to_owned(),
        ] {
            let n = Name::parse(&given).unwrap();
            let back = Name::parse_full(&n.full()).unwrap();
            assert_eq!((back.namespace(), back.base()), (n.namespace(), n.base()));
            assert_eq!(back.full(), n.full());
        }
        for bad in [
            format!("Local\\{}", "x".repeat(261)),
            format!("Global\\{}", "x".repeat(260)),
            "Local\\".to_owned(),
            "Local\\Global\\x".to_owned(),
            "Local\\a\\b".to_owned(),
            "Local\\\\".to_owned(),
        ] {
            assert!(Name::parse_full(&bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn full_spellings_read_back(s in ".{0,300}") {
            if let Ok(n) = Name::parse(&s) {
                let back = Name::parse_full(&n.full()).unwrap();
                prop_assert_eq!((back.namespace(), back.base()), (n.namespace(), n.base()));
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,300}") {
            let _ = Name::parse(&s);
        }
    }
}
