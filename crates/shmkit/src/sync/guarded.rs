//! A value in shared memory under a named mutex, and the trait that says which types may
//! live in shared memory at all.

use super::{Mutex, MutexGuard};
use crate::error::{code, Error, ErrorKind, Result};
use crate::mapping::Mapping;
use crate::view::{Access, View};
use std::marker::PhantomData;
use std::sync::atomic;

/// Types whose values may live in memory shared between processes.
///
/// # Safety
///
/// Implement it only for a type that
/// - has a fixed layout: a primitive, an array, or `#[repr(C)]` / `#[repr(transparent)]`;
/// - holds no pointer, reference, `Box`, `String`, handle or file descriptor: an address
///   or a handle of one process means nothing in another;
/// - is valid for every bit pattern: new memory is zeros, and another process may have
///   written anything;
/// - needs no `Drop`.
///
/// The [`shm_safe!`](crate::shm_safe) macro declares a `#[repr(C)]` struct and implements
/// the trait after checking, at compile time, that every field is `ShmSafe`.
pub unsafe trait ShmSafe: Send + Sync + 'static {}

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
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    (),
    atomic::AtomicU8,
    atomic::AtomicU16,
    atomic::AtomicU32,
    atomic::AtomicU64,
    atomic::AtomicUsize,
    atomic::AtomicI8,
    atomic::AtomicI16,
    atomic::AtomicI32,
    atomic::AtomicI64,
    atomic::AtomicIsize
);

// SAFETY: an array of ShmSafe elements has no padding of its own, no pointer, and every
// bit pattern is valid when it is for each element.
unsafe impl<T: ShmSafe, const N: usize> ShmSafe for [T; N] {}

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
        unsafe impl $crate::sync::ShmSafe for $name {}

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

impl<T: ShmSafe> Guarded<T> {
    /// Creates (or opens) the mapping `name`, sized for one `T` and zero-filled when new,
    /// and the mutex `name` + `.mutex` that guards it.
    pub fn create(name: &str) -> Result<Guarded<T>> {
        let size = std::mem::size_of::<T>().max(1) as u64;
        let mapping = Mapping::create(name, size)?;
        let mutex = Mutex::create(&mutex_name(name))?;
        Guarded::over(mutex, mapping, 0)
    }

    /// Opens the pair that [`create`](Guarded::create) made.
    pub fn open(name: &str) -> Result<Guarded<T>> {
        let mapping = Mapping::open(name, Access::ReadWrite)?;
        let mutex = Mutex::open(&mutex_name(name))?;
        Guarded::over(mutex, mapping, 0)
    }

    /// A `T` at byte `offset` of `mapping`, guarded by `mutex`. The offset must be a
    /// multiple of `T`'s alignment, and the value must fit.
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
            return Err(Error::with_code(
                ErrorKind::Misaligned,
                code::INVALID_PARAMETER,
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
    pub fn lock(&self) -> Result<GuardedRef<'_, T>> {
        let guard = self.mutex.lock()?;
        Ok(self.wrap(guard))
    }

    /// Waits at most `timeout` for the mutex; `None` when the time passed first.
    pub fn lock_timeout(&self, timeout: std::time::Duration) -> Result<Option<GuardedRef<'_, T>>> {
        Ok(self.mutex.lock_timeout(timeout)?.map(|g| self.wrap(g)))
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
