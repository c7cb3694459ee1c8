//! Name parsing (SPEC 1): every string is a valid name or an InvalidName error with the
//! code of its rule; a valid name keeps its spelling, maps to one safe file name that
//! decodes back to its base, and reads back from its full spelling as the same object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmkit::{code, fuzzing, quoted, ErrorKind, Kind, Name, MAX_NAME_LEN};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    check(&s);
    // Only the bytes that are no file name's spelling decode to nothing.
    if let Some(base) = fuzzing::decode_file_name(&s) {
        let n = Name::parse(&format!("Global\\{base}")).expect("a decoded base is a name");
        assert_eq!(fuzzing::file_name(&n), s, "one spelling per name");
    }
});

fn check(s: &str) {
    let q = quoted(s);
    assert!(!q.chars().any(char::is_control), "{q}");
    let n = match Name::parse(s) {
        Ok(n) => n,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidName);
            let c = e.win32_code();
            assert!(
                [
                    code::PATH_NOT_FOUND,
                    code::INVALID_NAME,
                    code::FILENAME_EXCED_RANGE
                ]
                .contains(&c),
                "{c} for {s:?}"
            );
            assert!(!e.message().is_empty());
            return;
        }
    };
    assert_eq!(n.as_str(), s);
    assert!(s.encode_utf16().count() <= MAX_NAME_LEN);
    let base = n.base();
    assert!(!base.is_empty() && !base.contains(['\\', '\0']), "{base:?}");
    assert_eq!(n.full(), format!("{}\\{base}", n.namespace()));
    let file = fuzzing::file_name(&n);
    assert!(file.len() <= 255 && !file.contains(['/', '\0']) && file != "." && file != "..");
    match fuzzing::decode_file_name(&file) {
        Some(b) => assert_eq!(b, base),
        None => assert!(file.starts_with("h.")),
    }
    // Headers keep the full spelling, which must read back as this very object.
    let back = fuzzing::parse_full(&n.full()).expect("a full name reads back");
    assert_eq!((back.namespace(), back.base()), (n.namespace(), base));
    assert_eq!(fuzzing::file_name(&back), file);
    assert!(fuzzing::label(Kind::Mapping, Some(s)).contains(&q));
}
