//! A value in shared memory under a named mutex, and the trait that says which types may
//! live in shared memory at all.

use super::{Mutex, MutexGuard};
use crate::error::{Error, ErrorKind, Result};
use crate::kind::Access;
use crate::mapping::Mapping;
use crate::view::View;
use std::marker::PhantomData;
use std::sync::atomic;

/// Types whose values may live in memory shared between processes.
///
/// # Safety
///
/// Implement it only for a type that
/// - has a fixed layout, the same in every process: a fixed-width primitive (never
///   `usize`, `isize` or their atomics: a 32-bit and a 64-bit process may share one
///   mapping), an array, or `#[repr(C)]` / `#[repr(transparent)]`;
/// - holds no pointer, reference, `Box`, `String`, handle or file descriptor: an address
///   or a handle of one process means nothing in another;
/// - is valid for every bit pattern: new memory is zeros, and another process may have
///   written anything;
/// - needs no `Drop`.
///
/// The [`shm_safe!`](crate::shm_safe) macro declares a `#[repr(C)]` struct and implements
/// the trait after checking, at compile time, that every field is `ShmSafe`.
pub unsafe trait ShmSafe: Send + Sync + 'static {
    /// A fingerprint of the type that a [`Guarded`] mapping records, so that opening it
    /// as another type fails. The default hashes the type's name; arrays and the structs
    /// of [`shm_safe!`](crate::shm_safe) hash their element or field names and types, so
    /// the same declaration in two programs has the same tag.
    fn type_tag() -> u64 {
        tag_of(std::any::type_name::<Self>().as_bytes(), 0)
    }
}

/// FNV-1a over `bytes`, continuing from `seed` (0 for a fresh hash): a fixed function, the
/// same in every build, for [`ShmSafe::type_tag`].
#[doc(hidden)]
pub const fn tag_of(bytes: &[u8], seed: u64) -> u64 {
    let mut h = if seed == 0 {
        0xcbf2_9ce4_8422_2325
    } else {
        seed
    };
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

macro_rules! shm_safe_primitives {
    ($($t:ty),*) => {$(
        // SAFETY: a primitive number or atomic: fixed size, no pointer, any bits valid.
        unsafe impl ShmSafe for $t {}
    )*};
}
shm_safe_primitives!(
    u8,
    u16,
    u32,
    u64,
    u128,
    i8,
    i16,
    i32,
    i64,
    i128,
    f32,
    f64,
    (),
    atomic::AtomicU8,
    atomic::AtomicU16,
    atomic::AtomicU32,
    atomic::AtomicU64,
    atomic::AtomicI8,
    atomic::AtomicI16,
    atomic::AtomicI32,
    atomic::AtomicI64
);

// SAFETY: an array of ShmSafe elements has no padding of its own, no pointer, and every
// bit pattern is valid when it is for each element.
unsafe impl<T: ShmSafe, const N: usize> ShmSafe for [T; N] {
    fn type_tag() -> u64 {
        let h = tag_of(b"[", T::type_tag());
        tag_of(b"]", tag_of(&(N as u64).to_le_bytes(), h))
    }
}

/// Declares a `#[repr(C)]` struct whose fields are all [`ShmSafe`], and implements
/// [`ShmSafe`] for it. A field of any other type (a pointer, a `String`, a `bool`) does
/// not compile.
///
/// ```
/// shmkit::shm_safe! {
///     /// Shared between the workers.
///     #[derive(Debug, Clone, Copy)]
///     pub struct Stats {
///         pub counter: u64,
///         pub last_pid: u32,
///         pub samples: [f64; 4],
///     }
/// }
/// ```
///
/// ```compile_fail
/// shmkit::shm_safe! {
///     pub struct Bad { pub text: String }
/// }
/// ```
///
/// Nor does a field whose width depends on the process (`usize`, `isize` and their
/// atomics): a 32-bit and a 64-bit process may share the mapping.
///
/// ```compile_fail
/// shmkit::shm_safe! {
///     pub struct Bad { pub len: usize }
/// }
/// ```
#[macro_export]
macro_rules! shm_safe {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $fty ),*
        }

        // SAFETY: `#[repr(C)]`, and every field is `ShmSafe` (checked just below), so the
        // struct holds no pointer and any bit pattern is a valid value.
        unsafe impl $crate::sync::ShmSafe for $name {
            fn type_tag() -> u64 {
                let h = $crate::sync::tag_of(stringify!($name).as_bytes(), 0);
                $( let h = $crate::sync::tag_of(
                    stringify!($field).as_bytes(),
                    $crate::sync::tag_of(
                        &<$fty as $crate::sync::ShmSafe>::type_tag().to_le_bytes(),
                        h,
                    ),
                ); )*
                h
            }
        }

        const _: () = {
            fn all_fields_are_shm_safe() {
                fn check<T: $crate::sync::ShmSafe>() {}
                $( check::<$fty>(); )*
            }
        };
    };
}

/// A value of type `T` inside a mapping, protected by a named mutex: every process that
/// opens the same name sees the same value and takes the same lock.
///
/// ```
/// # fn main() -> shmkit::Result<()> {
/// use shmkit::sync::Guarded;
/// shmkit::shm_safe! {
///     pub struct Counter { pub counter: u64 }
/// }
/// # let name = format!("Local\\doc-guarded-{}", std::process::id());
/// let shared = Guarded::<Counter>::create(&name)?; // or `open` in the other processes
/// {
///     let mut guard = shared.lock()?;
///     guard.data_mut().counter += 1;
/// }
/// assert_eq!(shared.lock()?.data().counter, 1);
/// # Ok(()) }
/// ```
///
/// The contract that makes `data_mut` sound: every process that writes the value does so
/// holding the mutex, through a `Guarded` (or the same mutex by hand). A process that
/// writes the bytes without it races with the lock holder; because `T: ShmSafe`, the
/// holder then reads wrong numbers, never an invalid value.
pub struct Guarded<T: ShmSafe> {
    mutex: Mutex,
    view: View,
    offset: usize,
    /// Keeps the name alive as long as the value is guarded.
    _mapping: Mapping,
    _value: PhantomData<T>,
}

impl<T: ShmSafe> std::fmt::Debug for Guarded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded")
            .field("mutex", &self.mutex)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// The name of the mutex that guards the value of mapping `name`.
fn mutex_name(name: &str) -> String {
    format!("{name}.mutex")
}

/// The record at the start of a mapping made by [`Guarded::create`]: the type's tag and
/// size, written under the mutex before any value is handed out.
const RECORD_LEN: usize = 16;

/// Where the value starts in a mapping made by [`Guarded::create`].
const fn value_at<T>() -> usize {
    RECORD_LEN.next_multiple_of(std::mem::align_of::<T>())
}

impl<T: ShmSafe> Guarded<T> {
    /// Creates (or opens) the mapping `name`, sized for one `T` and zero-filled when new,
    /// and the mutex `name` + `.mutex` that guards it. The mapping records `T`'s tag and
    /// size: a mapping made for another type is [`ErrorKind::WrongType`].
    pub fn create(name: &str) -> Result<Guarded<T>> {
        let mutex = Mutex::create(&mutex_name(name))?;
        let mapping = {
            // The record is written and checked under the mutex, so no process sees a
            // half-made one.
            let _held = mutex.lock()?;
            let size = (value_at::<T>() + std::mem::size_of::<T>()) as u64;
            let mapping = Mapping::create(name, size)?;
            Guarded::<T>::check_record(&mapping, true)?;
            mapping
        };
        Guarded::over(mutex, mapping, value_at::<T>())
    }

    /// Opens the pair that [`create`](Guarded::create) made;
    /// [`ErrorKind::WrongType`] when it was made for another type.
    pub fn open(name: &str) -> Result<Guarded<T>> {
        let mapping = Mapping::open(name, Access::ReadWrite)?;
        let mutex = Mutex::open(&mutex_name(name))?;
        {
            let _held = mutex.lock()?;
            Guarded::<T>::check_record(&mapping, false)?;
        }
        Guarded::over(mutex, mapping, value_at::<T>())
    }

    /// Checks the record of a mapping made by `create` (holding the mutex); a fresh one
    /// (all zeros) is stamped when `stamp`.
    fn check_record(mapping: &Mapping, stamp: bool) -> Result<()> {
        let what = || {
            format!(
                "guarded {} {}",
                std::any::type_name::<T>(),
                mapping.name().map(crate::name::quoted).unwrap_or_default()
            )
        };
        let view = mapping.map(Access::ReadWrite)?;
        let tag = T::type_tag();
        let size = std::mem::size_of::<T>() as u64;
        let mut record = [0u8; RECORD_LEN];
        if view.len() >= RECORD_LEN {
            view.read(0, &mut record)?;
        }
        let found_tag = u64::from_le_bytes(record[..8].try_into().unwrap_or_default());
        let found_size = u64::from_le_bytes(record[8..].try_into().unwrap_or_default());
        let fits = view.len() as u64 >= value_at::<T>() as u64 + size;
        if fits && (found_tag, found_size) == (tag, size) {
            return Ok(());
        }
        if fits && stamp && record == [0; RECORD_LEN] {
            view.write(8, &size.to_le_bytes())?;
            return view.write(0, &tag.to_le_bytes());
        }
        Err(Error::new(
            ErrorKind::WrongType,
            if found_tag == 0 && found_size == 0 {
                format!(
                    "opening {}: the mapping was not made by Guarded::create",
                    what()
                )
            } else {
                format!(
                    "opening {}: the mapping holds a value of another type \
                     ({found_size} bytes, tag {found_tag:#018x}; this type: {size} bytes, tag {tag:#018x})",
                    what()
                )
            },
        ))
    }

    /// A `T` at byte `offset` of `mapping`, guarded by `mutex`. The offset must be a
    /// multiple of `T`'s alignment, and the value must fit. Nothing is recorded in the
    /// mapping: the caller decides its layout.
    pub fn over(mutex: Mutex, mapping: Mapping, offset: usize) -> Result<Guarded<T>> {
        let view = mapping.map(Access::ReadWrite)?;
        let size = std::mem::size_of::<T>();
        let align = std::mem::align_of::<T>();
        let what = format!(
            "guarding a {} at offset {offset} of {}",
            std::any::type_name::<T>(),
            mapping
                .name()
                .map(crate::name::quoted)
                .unwrap_or_else(|| "an unnamed mapping".into())
        );
        if offset % align != 0 {
            return Err(Error::new(
                ErrorKind::Misaligned,
                format!("{what}: the offset is not a multiple of the type's alignment {align}"),
            ));
        }
        if offset.checked_add(size).is_none_or(|end| end > view.len()) {
            return Err(Error::new(
                ErrorKind::OutOfRange,
                format!(
                    "{what}: {size} bytes do not fit in the mapping's {} bytes",
                    view.len()
                ),
            ));
        }
        Ok(Guarded {
            mutex,
            view,
            offset,
            _mapping: mapping,
            _value: PhantomData,
        })
    }

    /// Waits for the mutex, then gives access to the value.
    ///
    /// The mutex is recursive, but the value's guard is exclusive: when the calling
    /// thread already holds the mutex (through another guard of this or another handle
    /// to the same name, or by hand), the call fails with [`ErrorKind::AlreadyLocked`]
    /// instead of handing out a second `&mut T`.
    pub fn lock(&self) -> Result<GuardedRef<'_, T>> {
        self.refuse_reentry()?;
        let guard = self.mutex.lock()?;
        Ok(self.wrap(guard))
    }

    /// Waits at most `timeout` for the mutex; `None` when the time passed first.
    /// [`ErrorKind::AlreadyLocked`] as for [`lock`](Guarded::lock).
    pub fn lock_timeout(&self, timeout: std::time::Duration) -> Result<Option<GuardedRef<'_, T>>> {
        self.refuse_reentry()?;
        Ok(self.mutex.lock_timeout(timeout)?.map(|g| self.wrap(g)))
    }

    /// Only the calling thread can make it own the mutex, so the answer cannot change
    /// between this check and the lock that follows.
    fn refuse_reentry(&self) -> Result<()> {
        if self.mutex.is_owned_by_current_thread() {
            return Err(Error::new(
                ErrorKind::AlreadyLocked,
                format!(
                    "locking the guarded value of {}: this thread already holds its mutex; \
                     a second guard would be a second exclusive reference",
                    self.mutex
                        .name()
                        .map(crate::name::quoted)
                        .unwrap_or_else(|| "an unnamed mutex".into())
                ),
            ));
        }
        Ok(())
    }

    /// The mutex that guards the value.
    pub fn mutex(&self) -> &Mutex {
        &self.mutex
    }

    fn wrap<'a>(&'a self, guard: MutexGuard<'a>) -> GuardedRef<'a, T> {
        // The pointer was bounds- and alignment-checked in `over`; the view lives as
        // long as `self`.
        let ptr = self.view.as_mut_ptr().wrapping_add(self.offset).cast::<T>();
        GuardedRef {
            guard,
            ptr,
            _value: PhantomData,
        }
    }
}

/// Access to a [`Guarded`] value while holding its mutex; releases it when dropped.
pub struct GuardedRef<'a, T: ShmSafe> {
    guard: MutexGuard<'a>,
    ptr: *mut T,
    _value: PhantomData<&'a mut T>,
}

impl<T: ShmSafe> GuardedRef<'_, T> {
    /// Whether the previous owner of the mutex died holding it: the value may be
    /// half-updated.
    pub fn was_abandoned(&self) -> bool {
        self.guard.was_abandoned()
    }

    /// The value.
    pub fn data(&self) -> &T {
        // SAFETY: `ptr` is in bounds and aligned for T (checked in `Guarded::over`) inside
        // a view that outlives `'a`; any bit pattern is a valid T (`ShmSafe`); the mutex,
        // held by this guard, excludes writers that follow the type's contract.
        unsafe { &*self.ptr }
    }

    /// The value, to change it.
    pub fn data_mut(&mut self) -> &mut T {
        // SAFETY: as in `data`; `&mut self` makes this the only reference this guard
        // hands out, and the mutex excludes every other cooperating writer.
        unsafe { &mut *self.ptr }
    }
}

impl<T: ShmSafe> std::fmt::Debug for GuardedRef<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedRef")
            .field("abandoned", &self.was_abandoned())
            .finish_non_exhaustive()
    }
}
