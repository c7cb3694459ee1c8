//! The parameter checks and the public builders that use them: never a panic; every
//! value out of its rule an error of its kind, every value inside it accepted.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use shmkit::fuzzing::params;
use shmkit::sync::SyncOptions;
use shmkit::{ErrorKind, Mapping, GRANULARITY};

#[derive(Arbitrary, Debug)]
enum Input {
    Permissions(u32),
    Size {
        size: u64,
        file_backed: bool,
    },
    Semaphore {
        initial: u32,
        max: u32,
    },
    Release(u32),
    View {
        offset: u64,
        len: usize,
        size: u64,
    },
    /// The public builders, with parameters that fail before any system call.
    Options {
        permissions: u32,
        size: u64,
        initial: u32,
        max: u32,
        persistent: bool,
    },
}

fn kind<T>(r: shmkit::Result<T>) -> Option<(ErrorKind, u32)> {
    r.err().map(|e| (e.kind(), e.win32_code()))
}

fuzz_target!(|input: Input| {
    let invalid = Some((ErrorKind::InvalidParameter, 87));
    match input {
        Input::Permissions(bits) => {
            let want = (bits & !0o777 != 0).then_some((ErrorKind::InvalidParameter, 87));
            assert_eq!(kind(params::permissions(bits)), want);
        }
        Input::Size { size, file_backed } => {
            let bad = (size == 0 && !file_backed) || size > params::MAX_SIZE;
            assert_eq!(
                kind(params::size(size, file_backed)),
                bad.then_some((ErrorKind::InvalidSize, 87))
            );
        }
        Input::Semaphore { initial, max } => {
            let bad = max == 0 || initial > max || max > i32::MAX as u32;
            assert_eq!(
                kind(params::semaphore(initial, max)),
                bad.then_some(invalid.unwrap())
            );
        }
        Input::Release(n) => {
            let bad = n == 0 || n > i32::MAX as u32;
            assert_eq!(
                kind(params::release_count(n)),
                bad.then_some(invalid.unwrap())
            );
        }
        Input::View { offset, len, size } => match params::view(offset, len, size) {
            Ok(got) => {
                assert_eq!(offset % GRANULARITY, 0);
                assert!(got > 0);
                if len != 0 {
                    assert_eq!(got, len);
                }
                let end = offset.checked_add(got as u64).expect("a view's end fits");
                assert!(end <= size);
                if len == 0 {
                    assert_eq!(end, size, "length 0 maps to the end");
                }
            }
            Err(e) => {
                let misaligned = offset % GRANULARITY != 0;
                let want = if misaligned {
                    (ErrorKind::Misaligned, 1132)
                } else {
                    (ErrorKind::OutOfRange, 5)
                };
                assert_eq!((e.kind(), e.win32_code()), want, "{offset} {len} {size}");
                if !misaligned {
                    let len64 = if len == 0 {
                        size.saturating_sub(offset)
                    } else {
                        len as u64
                    };
                    assert!(
                        offset >= size
                            || len64 == 0
                            || offset.checked_add(len64).is_none_or(|e| e > size)
                    );
                }
            }
        },
        Input::Options {
            permissions,
            size,
            initial,
            max,
            persistent,
        } => {
            // Only refusals are tried here (nothing is created): a bad permission, size,
            // count or an unnamed persistent object.
            if permissions & !0o777 != 0 {
                let r = Mapping::options()
                    .size(size.max(1))
                    .permissions(permissions)
                    .create();
                assert_eq!(kind(r), invalid);
                let r = SyncOptions::new()
                    .permissions(permissions)
                    .create_mutex(false);
                assert_eq!(kind(r), invalid);
            }
            if size == 0 || size > params::MAX_SIZE {
                let r = Mapping::options()
                    .size(size)
                    .persistent(persistent)
                    .create();
                assert_eq!(kind(r), Some((ErrorKind::InvalidSize, 87)));
            } else if persistent {
                let r = Mapping::options().size(size).persistent(true).create();
                assert_eq!(kind(r), invalid);
            }
            if max == 0 || initial > max || max > i32::MAX as u32 {
                let r = SyncOptions::new().create_semaphore(initial, max);
                assert_eq!(kind(r), invalid);
            }
        }
    }
});
