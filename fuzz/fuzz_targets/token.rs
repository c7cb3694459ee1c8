//! The inheritance token codec: never a panic; a string that decodes re-encodes to a
//! token that decodes to the same one, and decode_for agrees with decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmkit::fuzzing::Token;
use shmkit::{ErrorKind, Kind};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    for text in [s.to_string(), format!("shmkit:1:{s}")] {
        check(&text);
    }
});

fn check(s: &str) {
    let decoded = Token::decode(s);
    if let Ok(t) = &decoded {
        let text = t.encode();
        assert!(!text.contains(['\n', '\r', '\0']), "{text:?}");
        assert_eq!(Token::decode(&text).as_ref(), Ok(t), "{text:?}");
        if let Some(name) = t.name() {
            assert!(!name.is_empty());
        }
    }
    for kind in Kind::ALL {
        match (&decoded, Token::decode_for(s, kind)) {
            (Ok(t), Ok(u)) => assert!(t == &u && t.kind() == kind),
            (Ok(t), Err(e)) => assert!(t.kind() != kind && e.kind() == ErrorKind::WrongType),
            (Err(_), Err(e)) => assert_eq!(e.kind(), ErrorKind::InvalidHandle),
            (Err(_), Ok(_)) => panic!("decode_for accepted what decode refused"),
        }
    }
}
