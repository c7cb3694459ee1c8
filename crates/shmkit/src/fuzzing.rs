//! The internals the fuzz targets in `fuzz/` drive: built only with `--cfg fuzzing`
//! (which cargo-fuzz sets), never part of the API.

use crate::{Kind, Name, Result};

/// The parameter checks of `params`, with a fixed label for the object.
pub mod params {
    use crate::Result;

    /// The largest object size.
    pub const MAX_SIZE: u64 = crate::params::MAX_SIZE;

    /// Permission bits.
    pub fn permissions(bits: u32) -> Result<()> {
        crate::params::permissions(bits, "fuzz")
    }

    /// An object's size.
    pub fn size(size: u64, file_backed: bool) -> Result<()> {
        crate::params::size(size, file_backed, "fuzz")
    }

    /// A semaphore's counts.
    pub fn semaphore(initial: u32, max: u32) -> Result<()> {
        crate::params::semaphore(initial, max, "fuzz")
    }

    /// A semaphore release count.
    pub fn release_count(n: u32) -> Result<()> {
        crate::params::release_count(n, "fuzz")
    }

    /// A view's range; its length.
    pub fn view(offset: u64, len: usize, size: u64) -> Result<usize> {
        crate::params::view(offset, len, size, "fuzz")
    }
}

/// How messages name an object.
pub fn label(kind: Kind, name: Option<&str>) -> String {
    crate::name::label(kind, name)
}

/// The file name that stands for `name` in its namespace directory.
#[cfg(target_os = "linux")]
pub fn file_name(name: &Name) -> String {
    crate::os::fuzzing::file_name(name)
}

/// Decodes a file name written by [`file_name`].
#[cfg(target_os = "linux")]
pub fn decode_file_name(file: &str) -> Option<String> {
    crate::os::fuzzing::decode_file_name(file)
}

/// A decoded inheritance token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token(crate::token::Token);

impl Token {
    /// Decodes `s`; the reason when it is no token.
    pub fn decode(s: &str) -> std::result::Result<Token, &'static str> {
        crate::token::Token::decode(s)
            .map(Token)
            .map_err(|crate::token::Malformed(why)| why)
    }

    /// Decodes `s` as a token for an object of `kind`.
    pub fn decode_for(s: &str, kind: Kind) -> Result<Token> {
        crate::token::decode_for(s, kind).map(Token)
    }

    /// The token as text.
    pub fn encode(&self) -> String {
        self.0.encode()
    }

    /// The kind of object it names.
    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    /// The name it carries.
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
}

/// A decoded object header.
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header(crate::os::fuzzing::Header);

#[cfg(target_os = "linux")]
impl Header {
    /// Decodes the object file `file` (its bytes from offset 0); the errno when refused.
    pub fn decode(file: &[u8]) -> std::result::Result<Header, i32> {
        crate::os::fuzzing::Header::decode(file)
            .map(Header)
            .map_err(|e| e.raw_os_error())
    }

    /// The bytes of an object file with this header: the first page, then the path.
    pub fn encode(&self) -> Vec<u8> {
        let (mut file, path) = self.0.encode();
        file.extend(path.unwrap_or_default());
        file
    }

    /// The name it keeps.
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
}

/// A name read back in its full spelling, as headers keep it.
pub fn parse_full(full: &str) -> Result<Name> {
    Name::parse_full(full)
}
