//! The renderer's time grows linearly with the message, for every adversarial input.
//!
//! Not a timing test against a clock: within one run, each input is rendered at n and at 8n
//! characters (a 32nd and a quarter of Chatwoot's limit: big enough to show the growth, small
//! enough that a quadratic renderer fails in seconds, not minutes, in a debug build), and the
//! second may take at most 20 times as long as the first. Linear work takes about 8 times as long; quadratic work 64 times. Time is the
//! test thread's CPU time, not the clock's: on a busy machine other processes stretch a long
//! render's wall time far more than a short one's, CPU time they barely touch. Each size keeps
//! its fastest of several renders, so what they do disturb (caches) does not count either.

use std::time::Duration;

use parley_core::markdown::render;

mod support {
    pub mod adversarial;
}

use support::adversarial::{INPUTS, MESSAGE_LIMIT};

/// Well above the 8 of linear work, well below the 64 of quadratic work.
const MAX_RATIO: f64 = 20.0;
const RENDERS_PER_SIZE: usize = 5;
/// Below this the sizes' times are mostly timer and allocator noise; an input that fast at 8n
/// is linear enough whatever the ratio says.
const NOISE_FLOOR: Duration = Duration::from_millis(1);

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

fn fastest_render(src: &str) -> Duration {
    (0..RENDERS_PER_SIZE)
        .map(|_| {
            let start = thread_cpu_time();
            std::hint::black_box(render(std::hint::black_box(src)));
            thread_cpu_time() - start
        })
        .min()
        .expect("renders")
}

#[test]
fn render_time_grows_linearly_for_every_adversarial_input() {
    let (small, large) = (MESSAGE_LIMIT / 32, MESSAGE_LIMIT / 4);
    let mut failures = Vec::new();
    for input in INPUTS {
        let at_small = fastest_render(&(input.build)(small));
        let at_large = fastest_render(&(input.build)(large));
        let ratio = at_large.as_secs_f64() / at_small.as_secs_f64().max(1e-9);
        eprintln!(
            "{:<34} {small}: {at_small:>10.2?}  {large}: {at_large:>10.2?}  ratio {ratio:.1}",
            input.name
        );
        if ratio > MAX_RATIO && at_large > NOISE_FLOOR {
            failures.push(format!(
                "{}: {at_small:.2?} at {small} characters, {at_large:.2?} at {large} (×{ratio:.1})",
                input.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "render time grows faster than linearly (8× the input may take at most {MAX_RATIO}× the time):\n{}",
        failures.join("\n")
    );
}
