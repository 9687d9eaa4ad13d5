//! Markdown render time for adversarial 150,000-character messages:
//! `cargo run --release -p parley-core --example markdown_bench [runs]`.
//!
//! Renders each input of `tests/support/adversarial.rs` at Chatwoot's content limit
//! (parentheses after an autolink, backtick and emphasis runs, nested lists and quotes, long
//! and many autolinks, many links, `[` and `<` runs, …), `runs` times after one warm-up
//! render (only that one when it takes over a second), and prints a table (stderr) and the
//! figures as one JSON line (stdout) for `scripts/bench.sh`: per input the median wall time
//! and the median CPU time of the rendering thread, and the maximum over inputs beside the
//! target. The target is judged on CPU time, the renderer's own cost: on a machine busy with
//! other work, wall time also counts the time the thread waited for a core (the load average
//! is printed beside the figures).

use std::time::{Duration, Instant};

use parley_core::markdown::render;
use serde_json::json;

#[path = "../tests/support/adversarial.rs"]
mod adversarial;

use adversarial::{INPUTS, MESSAGE_LIMIT};

/// Issue 10, point 11: any message renders in under this, natively.
const TARGET_MS: f64 = 20.0;

/// CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill in.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

struct Row {
    name: &'static str,
    wall_ms: f64,
    cpu_ms: f64,
    html_bytes: usize,
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5)
        .max(1);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned));
    let mut rows = Vec::new();
    for input in INPUTS {
        let src = (input.build)(MESSAGE_LIMIT);
        assert_eq!(
            src.chars().count(),
            MESSAGE_LIMIT,
            "{} is not at the limit",
            input.name
        );
        let timed = || {
            let (wall, cpu) = (Instant::now(), thread_cpu_time());
            let html = render(std::hint::black_box(&src));
            let cpu_ms = (thread_cpu_time() - cpu).as_secs_f64() * 1e3;
            (wall.elapsed().as_secs_f64() * 1e3, cpu_ms, html.len())
        };
        let (first_wall, first_cpu, html_bytes) = timed();
        // A render slower than a second (a quadratic one) is its own figure: timing more of
        // them would only make the benchmark take minutes per input.
        let timed_runs = if first_wall > 1000.0 { 0 } else { runs };
        let (walls, cpus): (Vec<f64>, Vec<f64>) = (0..timed_runs)
            .map(|_| {
                let (wall, cpu, _) = timed();
                (wall, cpu)
            })
            .unzip();
        let row = if walls.is_empty() {
            Row {
                name: input.name,
                wall_ms: first_wall,
                cpu_ms: first_cpu,
                html_bytes,
            }
        } else {
            Row {
                name: input.name,
                wall_ms: median(walls),
                cpu_ms: median(cpus),
                html_bytes,
            }
        };
        eprintln!(
            "{:<34} {:>9.2} ms wall {:>9.2} ms CPU  ({} KB of HTML)",
            row.name,
            row.wall_ms,
            row.cpu_ms,
            row.html_bytes / 1024
        );
        rows.push(row);
    }
    let worst = rows
        .iter()
        .max_by(|a, b| a.cpu_ms.total_cmp(&b.cpu_ms))
        .expect("inputs");
    let max_wall_ms = rows.iter().map(|r| r.wall_ms).fold(0.0, f64::max);
    let met = worst.cpu_ms < TARGET_MS;
    eprintln!(
        "max over {} inputs: {:.2} ms CPU ({}), {max_wall_ms:.2} ms wall; target < {TARGET_MS} ms: {}; load average {}",
        rows.len(),
        worst.cpu_ms,
        worst.name,
        if met { "ok" } else { "MISSED" },
        load.as_deref().unwrap_or("?")
    );
    let inputs: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "wall_ms_median": r.wall_ms,
                "cpu_ms_median": r.cpu_ms,
                "html_bytes": r.html_bytes,
            })
        })
        .collect();
    println!(
        "{}",
        json!({
            "chars": MESSAGE_LIMIT,
            "runs": runs,
            "inputs": inputs,
            "max_cpu_ms": worst.cpu_ms,
            "max_wall_ms": max_wall_ms,
            "worst": worst.name,
            "target_ms": TARGET_MS,
            "met": met,
            "load_average": load,
        })
    );
}
