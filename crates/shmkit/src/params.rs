//! The checks of caller-given parameters, made once, in the public layer, before any
//! backend sees a request (backends may rely on them: see `os`). A refused parameter is
//! an error that names the object and the rule, and changes nothing.

use crate::error::{Error, ErrorKind, Result};
use crate::GRANULARITY;

/// The largest object: its data must be addressable as an `i64` file offset behind the
/// 64 KiB header on Linux, and as an `isize` in this address space.
pub(crate) const MAX_SIZE: u64 = {
    let file = i64::MAX as u64 - crate::GRANULARITY;
    let addr = isize::MAX as u64;
    if file < addr {
        file
    } else {
        addr
    }
};

/// Unix-style permission bits: owner, group and others, read/write/execute; nothing else.
pub(crate) fn permissions(bits: u32, what: &str) -> Result<()> {
    if bits & !0o777 != 0 {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("{what}: permissions {bits:o} are not owner/group/others bits (0o777 at most)"),
        ));
    }
    Ok(())
}

/// The size of an object: not 0 (SPEC 2.4) unless a file gives it (SPEC 3.1), and within
/// [`MAX_SIZE`].
pub(crate) fn size(size: u64, file_backed: bool, what: &str) -> Result<()> {
    if size == 0 && !file_backed {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!("{what}: size 0 is not allowed"),
        ));
    }
    if size > MAX_SIZE {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!("{what}: size {size} is larger than the system allows ({MAX_SIZE})"),
        ));
    }
    Ok(())
}

/// A semaphore's counts (SPEC 7.3): `1 <= max <= i32::MAX` (Windows' LONG) and
/// `initial <= max`.
pub(crate) fn semaphore(initial: u32, max: u32, what: &str) -> Result<()> {
    if max == 0 || initial > max || max > i32::MAX as u32 {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "{what}: initial count {initial} and maximum {max} are invalid \
                 (need 1 <= maximum <= {} and initial <= maximum)",
                i32::MAX
            ),
        ));
    }
    Ok(())
}

/// A semaphore release count: `1..=i32::MAX` (ReleaseSemaphore's LONG).
pub(crate) fn release_count(n: u32, what: &str) -> Result<()> {
    if n == 0 || n > i32::MAX as u32 {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "{what}: a release count must be between 1 and {}, not {n}",
                i32::MAX
            ),
        ));
    }
    Ok(())
}

/// A channel's shape: a capacity of at least 1, a maximum message of at most the
/// capacity, 1 to 64 producers (SPEC 9.7).
pub(crate) fn channel(
    capacity: usize,
    max_message: usize,
    producers: usize,
    what: &str,
) -> Result<()> {
    if capacity == 0 || capacity as u64 > 1 << 40 {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!("{what}: a capacity of {capacity} bytes is not in 1 byte..1 TiB"),
        ));
    }
    if max_message > capacity {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "{what}: the largest message ({max_message} bytes) cannot be larger than the \
                 capacity ({capacity} bytes)"
            ),
        ));
    }
    if !(1..=64).contains(&producers) {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("{what}: {producers} producers; a channel has 1 to 64"),
        ));
    }
    Ok(())
}

/// The range of a view of `what`, an object of `size` bytes (SPEC 4.2, 4.3): `offset` a
/// multiple of [`GRANULARITY`], `len` bytes (0: to the end of the object) inside the
/// object. Returns the view's length.
pub(crate) fn view(offset: u64, len: usize, size: u64, what: &str) -> Result<usize> {
    if offset % GRANULARITY != 0 {
        return Err(Error::new(
            ErrorKind::Misaligned,
            format!(
                "cannot map a view of {what} at offset {offset}: offsets must be multiples of {GRANULARITY} (64 KiB)"
            ),
        ));
    }
    let len64 = if len == 0 {
        size.saturating_sub(offset)
    } else {
        len as u64
    };
    let end = offset.checked_add(len64);
    if offset >= size || len64 == 0 || end.is_none_or(|e| e > size) {
        return Err(Error::new(
            ErrorKind::OutOfRange,
            format!(
                "cannot map a view of {what} at offset {offset}{}: the object has {size} bytes",
                if len == 0 {
                    String::new()
                } else {
                    format!(" of {len} bytes")
                },
            ),
        ));
    }
    usize::try_from(len64).map_err(|_| {
        Error::new(
            ErrorKind::OutOfRange,
            format!("view of {what} is too large for this address space"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_refuses_with_its_kind_and_code_87() {
        for e in [
            permissions(0o1777, "x").unwrap_err(),
            semaphore(0, 0, "x").unwrap_err(),
            semaphore(3, 2, "x").unwrap_err(),
            semaphore(0, i32::MAX as u32 + 1, "x").unwrap_err(),
            release_count(0, "x").unwrap_err(),
        ] {
            assert_eq!(
                (e.kind(), e.win32_code()),
                (ErrorKind::InvalidParameter, 87)
            );
        }
        for e in [
            size(0, false, "x").unwrap_err(),
            size(MAX_SIZE + 1, true, "x").unwrap_err(),
        ] {
            assert_eq!((e.kind(), e.win32_code()), (ErrorKind::InvalidSize, 87));
        }
        assert!(permissions(0o777, "x").is_ok());
        assert!(semaphore(2, 2, "x").is_ok());
        assert!(size(0, true, "x").is_ok() && size(MAX_SIZE, false, "x").is_ok());
    }

    #[test]
    fn view_ranges() {
        let g = GRANULARITY;
        assert_eq!(view(0, 0, 3 * g, "x").unwrap(), 3 * g as usize);
        assert_eq!(view(g, 0, 3 * g, "x").unwrap(), 2 * g as usize);
        assert_eq!(view(2 * g, 5, 3 * g, "x").unwrap(), 5);
        let kind = |offset, len, size| view(offset, len, size, "x").unwrap_err().kind();
        assert_eq!(kind(1, 0, 3 * g), ErrorKind::Misaligned);
        assert_eq!(kind(3 * g, 0, 3 * g), ErrorKind::OutOfRange);
        assert_eq!(kind(2 * g, g as usize + 1, 3 * g), ErrorKind::OutOfRange);
        assert_eq!(
            kind(u64::MAX - g + 1, usize::MAX, u64::MAX),
            ErrorKind::OutOfRange
        );
        let code = |offset, len, size| view(offset, len, size, "x").unwrap_err().win32_code();
        assert_eq!((code(g / 2, 1, 3 * g), code(0, 0, 0)), (1132, 5));
    }
}
