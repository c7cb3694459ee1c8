//! Regression tests for `Guarded`: the double lock that handed one thread two `&mut T`
//! to one value, and the open that took a mapping made for another type.

mod common;

use common::unique;
use shmkit::{ErrorKind, Guarded};
use std::time::Duration;

shmkit::shm_safe! {
    struct Counter { value: u64 }
}

shmkit::shm_safe! {
    struct Pair { a: u32, b: u32 }
}

shmkit::shm_safe! {
    struct Wide { value: u64, extra: [u8; 64] }
}

/// The mutex is recursive; the guard must not be. A second `lock` by the thread that
/// holds the first guard used to return a second guard, so `data_mut` on both gave two
/// live `&mut Counter` to one value.
#[test]
fn a_second_lock_by_the_owning_thread_is_refused() {
    let name = unique("guarded-twice");
    let shared = Guarded::<Counter>::create(&name).unwrap();
    let mut first = shared.lock().unwrap();
    first.data_mut().value = 1;
    let e = shared.lock().unwrap_err();
    assert_eq!(
        (e.kind(), e.win32_code()),
        (ErrorKind::AlreadyLocked, 1131),
        "{e}"
    );
    let e = shared.lock_timeout(Duration::ZERO).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyLocked, "{e}");
    // Through a second handle to the same name, too.
    let other = Guarded::<Counter>::open(&name).unwrap();
    assert_eq!(other.lock().unwrap_err().kind(), ErrorKind::AlreadyLocked);
    // Through the mutex taken by hand.
    drop(first);
    let by_hand = shared.mutex().lock().unwrap();
    assert_eq!(shared.lock().unwrap_err().kind(), ErrorKind::AlreadyLocked);
    drop(by_hand);
    // Released: the next lock works and sees the value.
    assert_eq!(shared.lock().unwrap().data().value, 1);
}

/// Another thread still waits for the guard as before (the refusal is for the owner).
#[test]
fn another_thread_waits_for_the_guard() {
    let name = unique("guarded-thread");
    let shared = Guarded::<Counter>::create(&name).unwrap();
    let guard = shared.lock().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            shared
                .lock_timeout(Duration::from_millis(20))
                .map(|g| g.is_none())
        });
        assert!(
            matches!(waiter.join().unwrap(), Ok(true)),
            "timed out, not refused"
        );
    });
    drop(guard);
}

/// A guarded mapping records its type: opening (or creating) it as another type, of
/// the same size or not, is WrongType; the same type opens.
#[test]
fn opening_a_guarded_mapping_as_another_type_is_wrong_type() {
    let name = unique("guarded-type");
    let made = Guarded::<Counter>::create(&name).unwrap();
    made.lock().unwrap().data_mut().value = 41;
    for e in [
        Guarded::<Pair>::open(&name).unwrap_err(),
        Guarded::<Wide>::open(&name).unwrap_err(),
        Guarded::<u64>::open(&name).unwrap_err(),
        Guarded::<Pair>::create(&name).unwrap_err(),
    ] {
        assert_eq!((e.kind(), e.win32_code()), (ErrorKind::WrongType, 6), "{e}");
    }
    let again = Guarded::<Counter>::open(&name).unwrap();
    assert_eq!(again.lock().unwrap().data().value, 41);
    let also = Guarded::<Counter>::create(&name).unwrap();
    assert_eq!(also.lock().unwrap().data().value, 41);
}

/// A plain mapping of that name was not made by `Guarded::create`: open refuses it.
#[test]
fn a_plain_mapping_is_not_a_guarded_value() {
    let name = unique("guarded-plain");
    let _m = shmkit::Mapping::create(&name, 4096).unwrap();
    let _mutex = shmkit::Mutex::create(&format!("{name}.mutex")).unwrap();
    let e = Guarded::<Counter>::open(&name).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    assert!(e.to_string().contains("not made by Guarded::create"), "{e}");
}

/// The tag is the declaration's, not the program's: the same struct declared in another
/// module (as another program would) has the same tag; a field renamed does not.
#[test]
fn the_type_tag_follows_the_declaration() {
    use shmkit::ShmSafe;
    mod elsewhere {
        shmkit::shm_safe! {
            pub struct Counter { pub value: u64 }
        }
        shmkit::shm_safe! {
            pub struct Renamed { pub count: u64 }
        }
    }
    assert_eq!(Counter::type_tag(), elsewhere::Counter::type_tag());
    assert_ne!(Counter::type_tag(), elsewhere::Renamed::type_tag());
    assert_ne!(<[u8; 4]>::type_tag(), <[u8; 8]>::type_tag());
    assert_ne!(u32::type_tag(), i32::type_tag());
}
