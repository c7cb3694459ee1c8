//! The inheritance token: how a parent tells a child which handle it was given.
//!
//! `share_with` and `inherit_token` return a token; the child passes it to
//! `from_inherited`. Both backends, every kind of object and the C API's handle passing
//! use this one grammar, so it is written (and parsed) once, here, as pure code:
//!
//! ```text
//! shmkit:1:<kind>:<origin>:<handle>[@<pid>]:<access>:<protection>:<size>[:<name>]
//! ```
//!
//! | field | values |
//! |---|---|
//! | `1` | the version of the grammar |
//! | kind | [`Kind::as_str`]: `mapping`, `mutex`, `event`, `semaphore`, `channel` |
//! | origin | `named`, `unnamed`, `file` (a named file-backed mapping), `persistent` |
//! | handle | the descriptor (Linux) or handle value (Windows) the child finds |
//! | `@pid` | Windows `share_with`: the process the child duplicates the handle from |
//! | access | `r`, `rw`, `cow` |
//! | protection | `0` read-only, `1` read-write, `2` write-copy |
//! | size | the object's size in bytes (0 for sync objects) |
//! | name | a named object's full name, last (names may hold `:`), with `%` and control characters as `%XX` UTF-8 bytes (so a token is one printable line) |
//!
//! A token is a hint, never trusted: the backend checks the descriptor or handle it names
//! against the object it finds there before using it.

use crate::kind::{Access, Kind, Protection};
use std::fmt;

const PREFIX: &str = "shmkit:1:";

/// How the object behind a token came to be, which decides how the child holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Origin {
    /// A named object: the child's handle keeps the name alive.
    Named,
    /// An unnamed object, shared only by handles.
    Unnamed,
    /// A named mapping backed by a file.
    File,
    /// A persistent named mapping (kept until removed).
    Persistent,
}

impl Origin {
    const ALL: [Origin; 4] = [
        Origin::Named,
        Origin::Unnamed,
        Origin::File,
        Origin::Persistent,
    ];

    const fn as_str(self) -> &'static str {
        match self {
            Origin::Named => "named",
            Origin::Unnamed => "unnamed",
            Origin::File => "file",
            Origin::Persistent => "persistent",
        }
    }

    fn parse(s: &str) -> Option<Origin> {
        Origin::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One decoded inheritance token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub origin: Origin,
    /// The descriptor or handle value.
    pub handle: u64,
    /// The process to take the handle from (Windows `share_with`), if not inherited.
    pub process: Option<u32>,
    pub access: Access,
    pub protection: Protection,
    pub size: u64,
    /// The full name of a named object (`Local\x`); the backend checks it against the
    /// object it finds.
    pub name: Option<String>,
}

/// Why a string is not a token. The message is the `why` of an `InvalidHandle` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}:{}:{}",
            self.kind.as_str(),
            self.origin.as_str(),
            self.handle
        )?;
        if let Some(pid) = self.process {
            write!(f, "@{pid}")?;
        }
        write!(
            f,
            ":{}:{}:{}",
            self.access.as_str(),
            self.protection.code(),
            self.size
        )?;
        if let Some(name) = &self.name {
            f.write_str(":")?;
            for c in name.chars() {
                if c == '%' || c.is_control() {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        write!(f, "%{b:02X}")?;
                    }
                } else {
                    write!(f, "{c}")?;
                }
            }
        }
        Ok(())
    }
}

impl Token {
    /// A token for a handle of `kind` (sync objects: read-write, size 0).
    pub(crate) fn sync(kind: Kind, origin: Origin, handle: u64, name: Option<String>) -> Token {
        Token {
            name,
            kind,
            origin,
            handle,
            process: None,
            access: Access::ReadWrite,
            protection: Protection::ReadWrite,
            size: 0,
        }
    }

    /// The token as the child receives it.
    pub(crate) fn encode(&self) -> String {
        self.to_string()
    }

    /// Parses a token; never panics, whatever the input.
    pub(crate) fn decode(s: &str) -> Result<Token, Malformed> {
        let rest = s
            .strip_prefix(PREFIX)
            .ok_or(Malformed("not a shmkit handle token"))?;
        let mut fields = rest.splitn(7, ':');
        let mut next = || fields.next().ok_or(Malformed("malformed token"));
        let kind = Kind::parse(next()?).ok_or(Malformed("malformed kind"))?;
        let origin = Origin::parse(next()?).ok_or(Malformed("malformed origin"))?;
        let where_ = next()?;
        let (handle, process) = match where_.split_once('@') {
            Some((h, pid)) => (h, Some(number(pid, "malformed process id")?)),
            None => (where_, None),
        };
        let access = Access::parse(next()?).ok_or(Malformed("malformed access"))?;
        let protection = Protection::from_code(number(next()?, "malformed protection")?)
            .ok_or(Malformed("malformed protection"))?;
        let size = number(next()?, "malformed size")?;
        let name = fields.next().map(unescape).transpose()?;
        if kind == Kind::Mapping && size == 0 {
            return Err(Malformed("a mapping token with size 0"));
        }
        Ok(Token {
            kind,
            origin,
            handle: number(handle, "malformed descriptor")?,
            process,
            access,
            protection,
            size,
            name,
        })
    }
}

/// Decodes the token `text` that should name an object of `kind`: the error every
/// `from_inherited` reports for a bad token ([`ErrorKind::InvalidHandle`]) or a token of
/// another kind ([`ErrorKind::WrongType`]).
pub(crate) fn decode_for(text: &str, kind: Kind) -> crate::Result<Token> {
    use crate::error::{Error, ErrorKind};
    let token = Token::decode(text).map_err(|Malformed(why)| {
        Error::new(
            ErrorKind::InvalidHandle,
            format!("inherited handle {text:?}: {why}"),
        )
    })?;
    if token.kind != kind {
        return Err(Error::new(
            ErrorKind::WrongType,
            format!(
                "inherited handle {text:?} is a {}, not a {kind}",
                token.kind
            ),
        ));
    }
    Ok(token)
}

fn unescape(s: &str) -> Result<String, Malformed> {
    let bad = Malformed("malformed name");
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = tail.get(..2).ok_or(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return Err(bad);
            }
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad)?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    let name = String::from_utf8(bytes).map_err(|_| bad)?;
    if name.is_empty() {
        return Err(bad);
    }
    Ok(name)
}

fn number<T: std::str::FromStr>(s: &str, why: &'static str) -> Result<T, Malformed> {
    // Digits only: no sign, no blanks, no "+1" that `parse` would accept.
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed(why));
    }
    s.parse().map_err(|_| Malformed(why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kinds() -> impl Strategy<Value = Kind> {
        proptest::sample::select(Kind::ALL.to_vec())
    }
    fn origins() -> impl Strategy<Value = Origin> {
        proptest::sample::select(Origin::ALL.to_vec())
    }
    fn accesses() -> impl Strategy<Value = Access> {
        proptest::sample::select(vec![Access::Read, Access::ReadWrite, Access::CopyOnWrite])
    }
    fn protections() -> impl Strategy<Value = Protection> {
        proptest::sample::select(vec![
            Protection::ReadOnly,
            Protection::ReadWrite,
            Protection::WriteCopy,
        ])
    }

    proptest! {
        #[test]
        fn every_token_reads_back_as_itself(
            kind in kinds(),
            origin in origins(),
            handle in any::<u64>(),
            process in proptest::option::of(any::<u32>()),
            access in accesses(),
            protection in protections(),
            size in 1..u64::MAX,
            name in proptest::option::of("\\PC{1,20}|[a-z%:\n\u{7f}]{1,12}"),
        ) {
            let t = Token { kind, origin, handle, process, access, protection, size, name };
            let text = t.encode();
            prop_assert!(!text.contains('\n'), "{text:?}");
            prop_assert_eq!(Token::decode(&text), Ok(t));
        }

        #[test]
        fn any_string_is_a_token_or_a_reason_never_a_panic(s in ".{0,80}") {
            let _ = Token::decode(&s);
            let _ = Token::decode(&format!("shmkit:1:{s}"));
        }

        #[test]
        fn a_changed_field_is_refused_or_read_as_written(
            handle in any::<u64>(), junk in "[^:]{0,6}", field in 0usize..6,
        ) {
            let t = Token::sync(Kind::Event, Origin::Named, handle, None);
            let mut parts: Vec<String> = t.encode().split(':').map(str::to_owned).collect();
            parts[2 + field] = junk.clone();
            let s = parts.join(":");
            if let Ok(back) = Token::decode(&s) {
                prop_assert_eq!(back.encode(), s);
            }
        }
    }

    #[test]
    fn malformed_tokens_say_why() {
        let cases = [
            ("", "not a shmkit handle token"),
            (
                "shmkit-handle:3:named:rw:1:4096",
                "not a shmkit handle token",
            ),
            ("shmkit:1:window:named:3:rw:1:0", "malformed kind"),
            ("shmkit:1:mutex:borrowed:3:rw:1:0", "malformed origin"),
            ("shmkit:1:mutex:named:-3:rw:1:0", "malformed descriptor"),
            ("shmkit:1:mutex:named:+3:rw:1:0", "malformed descriptor"),
            ("shmkit:1:mutex:named:3@x:rw:1:0", "malformed process id"),
            ("shmkit:1:mutex:named:3:w:1:0", "malformed access"),
            ("shmkit:1:mutex:named:3:rw:7:0", "malformed protection"),
            ("shmkit:1:mutex:named:3:rw:1:", "malformed size"),
            ("shmkit:1:mutex:named:3:rw:1:0:", "malformed name"),
            ("shmkit:1:mutex:named:3:rw:1:0:a%4", "malformed name"),
            ("shmkit:1:mutex:named:3:rw:1:0:a%FF", "malformed name"),
            ("shmkit:1:mutex:named:3:rw", "malformed token"),
            (
                "shmkit:1:mapping:named:3:rw:1:0",
                "a mapping token with size 0",
            ),
        ];
        for (s, why) in cases {
            assert_eq!(Token::decode(s), Err(Malformed(why)), "{s:?}");
        }
        let t = Token::decode("shmkit:1:event:named:4:rw:1:0:Local\\a:b%25%0A").unwrap();
        assert_eq!(t.name.as_deref(), Some("Local\\a:b%\n"));
        let t = Token::decode("shmkit:1:mapping:file:12@345:cow:2:65536").unwrap();
        assert_eq!(
            (
                t.kind,
                t.origin,
                t.handle,
                t.process,
                t.access,
                t.protection,
                t.size
            ),
            (
                Kind::Mapping,
                Origin::File,
                12,
                Some(345),
                Access::CopyOnWrite,
                Protection::WriteCopy,
                65536
            )
        );
    }
}
