//! Remux time for a long voice note: `cargo run --release -p parley-media --example remux_bench [minutes]`.
//!
//! Builds a WebM of the requested length the way MediaRecorder lays one out (the header and
//! track of a real Chromium recording, then unknown-size clusters of SimpleBlocks holding
//! that recording's packets over and over), remuxes it several times and prints the figures
//! as one JSON line for `scripts/bench`.

use std::time::Instant;

use parley_media::{demux_opus, packet_samples, webm_to_ogg};

const CLUSTER: [u8; 4] = [0x1F, 0x43, 0xB6, 0x75];

fn vint_size(n: usize) -> Vec<u8> {
    // 4-byte size vint: enough for any block here.
    let n = n as u32 | 0x1000_0000;
    n.to_be_bytes().to_vec()
}

fn long_webm(minutes: u64) -> Vec<u8> {
    let real = include_bytes!("../tests/fixtures/chromium-fake-mic-8s.webm");
    let packets = demux_opus(real).expect("fixture demuxes").packets;
    let first_cluster = real
        .windows(4)
        .position(|w| w == CLUSTER)
        .expect("fixture has a cluster");
    let mut out = real[..first_cluster].to_vec();
    let target_ms = minutes * 60_000;
    let mut t_ms = 0u64;
    let mut i = 0;
    while t_ms < target_ms {
        // One cluster per ~5 s, like Chromium's timeslice-less recordings.
        out.extend_from_slice(&CLUSTER);
        out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        out.extend_from_slice(&[0xE7, 0x88]);
        out.extend_from_slice(&t_ms.to_be_bytes());
        let cluster_start = t_ms;
        while t_ms < target_ms && t_ms - cluster_start < 5_000 {
            let p = &packets[i % packets.len()];
            let rel = (t_ms - cluster_start) as i16;
            let mut block = vec![0x81];
            block.extend_from_slice(&rel.to_be_bytes());
            block.push(0x80);
            block.extend_from_slice(p);
            out.push(0xA3);
            out.extend(vint_size(block.len()));
            out.extend(block);
            t_ms += packet_samples(p).unwrap() as u64 / 48;
            i += 1;
        }
    }
    out
}

fn main() {
    let minutes: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let webm = long_webm(minutes);
    let runs = 7;
    let mut times = Vec::with_capacity(runs);
    let mut ogg = None;
    for _ in 0..runs {
        let start = Instant::now();
        ogg = Some(webm_to_ogg(&webm).expect("remuxes"));
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let ogg = ogg.unwrap();
    let median = times[runs / 2];
    println!(
        "{{\"voice_minutes\":{minutes},\"webm_bytes\":{},\"ogg_bytes\":{},\"packets\":{},\"duration_ms\":{},\"remux_ms_median\":{median:.2},\"remux_ms_min\":{:.2},\"remux_mb_per_s\":{:.1}}}",
        webm.len(),
        ogg.bytes.len(),
        ogg.packets,
        ogg.duration_ms,
        times[0],
        webm.len() as f64 / 1e6 / (median / 1000.0)
    );
}
