//! The suite end to end at its smoke scale (a handful of messages per measurement): every
//! system runs in its two processes, the report is JSON of the documented schema, both
//! plots are PNG files, and nothing is left in /dev/shm or the temporary directory. The
//! figures are not looked at: at this scale they mean nothing.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn names(dir: &Path, prefix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

#[test]
fn the_suite_runs_end_to_end_and_writes_its_report() {
    let out = std::env::temp_dir().join(format!("shmkit-bench-test-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let json = out.join("bench.json");
    let plots = out.join("plots");
    let tmp = std::env::temp_dir();
    let shm_before = names(Path::new("/dev/shm"), "iox2-shmkit-bench-");
    let tmp_before = names(&tmp, "shmkit-bench-");
    let iceoryx2_default_root = tmp.join("iceoryx2");
    let default_root_before = iceoryx2_default_root.exists();

    let mut child = Command::new(env!("CARGO_BIN_EXE_shmkit-bench"))
        .arg("--smoke")
        .arg("--json")
        .arg(&json)
        .arg("--plots")
        .arg(&plots)
        .spawn()
        .expect("start shmkit-bench");
    // A watchdog: the suite has deadlines of its own, this is for a hang in the harness.
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shmkit-bench --smoke did not finish in 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "shmkit-bench --smoke: {status}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).expect("the report is JSON");
    assert_eq!(
        keys(&report),
        ["latency", "lifecycle", "memcpy_gbps", "throughput", "wake"]
    );
    let wake: Vec<(&str, u64)> = report["wake"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(keys(r), ["handles", "p50_ns", "p99_ns", "wait"]);
            assert!(r["p50_ns"].as_f64().unwrap() > 0.0, "{r}");
            (r["wait"].as_str().unwrap(), r["handles"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        wake,
        [
            ("WaitForSingleObject", 1),
            ("WaitForMultipleObjects", 1),
            ("WaitForMultipleObjects", 8),
            ("WaitForMultipleObjects", 64),
            ("WaitForMultipleObjects(all)", 8),
            ("WaitForMultipleObjects(all)", 64)
        ]
    );
    let latency = report["latency"].as_array().unwrap();
    let systems: BTreeSet<(&str, &str)> = latency
        .iter()
        .map(|r| (r["system"].as_str().unwrap(), r["mode"].as_str().unwrap()))
        .collect();
    for expected in [
        ("shmkit-channel", "busy"),
        ("shmkit-channel", "block"),
        ("shmkit-channel", "adaptive"),
        ("flag-spin", "busy"),
        ("flag-futex", "block"),
        ("iceoryx2", "busy"),
        ("iceoryx2", "event"),
        ("unix-socket", "block"),
        ("pipe", "block"),
    ] {
        assert!(
            systems.contains(&expected),
            "no {expected:?} in {systems:?}"
        );
    }
    for row in latency {
        assert_eq!(
            keys(row),
            ["mode", "p50_ns", "p999_ns", "p99_ns", "size", "system"]
        );
        assert!(row["p50_ns"].as_f64().unwrap() > 0.0, "{row}");
    }
    let sizes: BTreeSet<u64> = latency
        .iter()
        .map(|r| r["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, BTreeSet::from([64, 4096, 65_536, 1 << 20]));
    let throughput = report["throughput"].as_array().unwrap();
    for row in throughput {
        assert_eq!(keys(row), ["gbps", "size", "system"]);
        assert!(row["gbps"].as_f64().unwrap() > 0.0, "{row}");
    }
    let through: BTreeSet<&str> = throughput
        .iter()
        .map(|r| r["system"].as_str().unwrap())
        .collect();
    assert_eq!(
        through,
        BTreeSet::from(["shmkit-channel", "iceoryx2", "read-1core"])
    );
    assert!(report["memcpy_gbps"].as_f64().unwrap() > 0.0);
    assert_eq!(
        keys(&report["lifecycle"]),
        ["raw_ops_per_s", "shmkit_ops_per_s"]
    );
    assert!(report["lifecycle"]["shmkit_ops_per_s"].as_f64().unwrap() > 0.0);

    for png in ["latency-p50-by-size.png", "latency-distribution-64b.png"] {
        let bytes = std::fs::read(plots.join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png}");
    }

    assert_eq!(
        names(Path::new("/dev/shm"), "iox2-shmkit-bench-"),
        shm_before,
        "iceoryx2 files left in /dev/shm"
    );
    let mut tmp_after = names(&tmp, "shmkit-bench-");
    tmp_after.retain(|n| !n.starts_with("shmkit-bench-test-"));
    let mut tmp_before = tmp_before;
    tmp_before.retain(|n| !n.starts_with("shmkit-bench-test-"));
    assert_eq!(
        tmp_after,
        tmp_before,
        "scratch directories left in {}",
        tmp.display()
    );
    assert!(
        default_root_before || !iceoryx2_default_root.exists(),
        "iceoryx2 used its default root {}",
        iceoryx2_default_root.display()
    );
    std::fs::remove_dir_all(&out).unwrap();
}
