//! The object header reader fed forged files: never a panic; whatever it accepts
//! re-encodes to a file that reads back as the same header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmkit::fuzzing::Header;

fuzz_target!(|data: &[u8]| {
    // Inputs are short: grow them to a first page (zeros, as the file's hole reads) so
    // that most reach the checks past the magic and length tests.
    for file in [data.to_vec(), padded(data)] {
        let Ok(h) = Header::decode(&file) else {
            continue;
        };
        let again = Header::decode(&h.encode()).expect("an accepted header re-encodes");
        assert_eq!(again, h);
    }
});

fn padded(data: &[u8]) -> Vec<u8> {
    let mut f = b"SHMKIT\0\x01\x01\0\0\0".to_vec();
    f.extend_from_slice(data);
    if f.len() < 4096 {
        // The name and the path go at their places; the seed puts them at its end.
        f.resize(4096, 0);
    }
    f
}
