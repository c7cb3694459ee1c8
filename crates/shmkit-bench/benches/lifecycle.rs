//! The lifecycle of a named shared-memory object: create, map read-write, write one
//! byte, unmap, close (the name disappears). shmkit against the raw POSIX calls.
//!
//! Groups (see [`shmkit_bench::GROUPS`]): `lifecycle` (4 KiB) and `lifecycle_1mib`
//! (1 MiB), each with the functions `shmkit`, `raw` (`shm_open` .. `shm_unlink`) and
//! `raw_commit` (the same plus `posix_fallocate`, which reserves the memory up front as
//! shmkit does so that a full store fails at creation rather than with SIGBUS).
//!
//! ```text
//! cargo bench -p shmkit-bench --bench lifecycle -- --warm-up-time 1 --measurement-time 5
//! cargo run -p shmkit-bench --bin lifecycle-ratio
//! ```

use criterion::Criterion;
use std::hint::black_box;

fn lifecycle(c: &mut Criterion) {
    let name = shmkit_bench::shmkit_name();
    let raw_name = shmkit_bench::raw::name();
    for &(group_name, size) in shmkit_bench::GROUPS {
        let len = usize::try_from(size).expect("benchmark sizes fit in usize");
        let mut group = c.benchmark_group(group_name);
        group.bench_function("shmkit", |b| {
            b.iter(|| {
                shmkit_bench::shmkit_lifecycle(black_box(&name), size).expect("shmkit lifecycle")
            })
        });
        group.bench_function("raw", |b| {
            b.iter(|| {
                shmkit_bench::raw::lifecycle(black_box(&raw_name), len, false)
                    .expect("raw lifecycle")
            })
        });
        group.bench_function("raw_commit", |b| {
            b.iter(|| {
                shmkit_bench::raw::lifecycle(black_box(&raw_name), len, true)
                    .expect("raw lifecycle with commit")
            })
        });
        group.finish();
    }
}

fn main() {
    // What `criterion_group!` and `criterion_main!` expand to, minus their undocumented
    // public function.
    let mut c = Criterion::default().configure_from_args();
    lifecycle(&mut c);
    c.final_summary();
}
