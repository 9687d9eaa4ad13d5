//! Real Chromium MediaRecorder recordings (fake microphone, `audio/webm;codecs=opus`)
//! remuxed to OGG/Opus, checked by an independent Ogg reader here and by real decoders
//! (`opusinfo`, `ffprobe`) from Debian, which `scripts/setup` installs.

use std::path::{Path, PathBuf};
use std::process::Command;

use parley_media::{demux_opus, packet_samples, webm_to_ogg, RemuxError, OGG_OPUS_MIME};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// An Ogg page as read back from bytes, CRC checked.
struct Page {
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    packets_ending: usize,
    segments: Vec<u8>,
    body: Vec<u8>,
}

/// Read every page; panics on a bad capture pattern or CRC.
fn read_pages(mut bytes: &[u8]) -> Vec<Page> {
    let mut pages = Vec::new();
    while !bytes.is_empty() {
        assert_eq!(&bytes[..4], b"OggS", "capture pattern");
        assert_eq!(bytes[4], 0, "version");
        let n = bytes[26] as usize;
        let segments = bytes[27..27 + n].to_vec();
        let body_len: usize = segments.iter().map(|s| *s as usize).sum();
        let total = 27 + n + body_len;
        let mut copy = bytes[..total].to_vec();
        let crc = u32::from_le_bytes(copy[22..26].try_into().unwrap());
        copy[22..26].fill(0);
        // Bitwise CRC, written independently of the crate's table.
        let mut c = 0u32;
        for b in &copy {
            c ^= (*b as u32) << 24;
            for _ in 0..8 {
                c = if c & 0x8000_0000 != 0 {
                    (c << 1) ^ 0x04C1_1DB7
                } else {
                    c << 1
                };
            }
        }
        assert_eq!(c, crc, "page CRC");
        pages.push(Page {
            flags: bytes[5],
            granule: u64::from_le_bytes(bytes[6..14].try_into().unwrap()),
            serial: u32::from_le_bytes(bytes[14..18].try_into().unwrap()),
            sequence: u32::from_le_bytes(bytes[18..22].try_into().unwrap()),
            packets_ending: segments.iter().filter(|s| **s < 255).count(),
            segments,
            body: bytes[27 + n..total].to_vec(),
        });
        bytes = &bytes[total..];
    }
    pages
}

/// Reassemble packets from pages.
fn packets(pages: &[Page]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for p in pages {
        let mut pos = 0;
        for s in &p.segments {
            cur.extend_from_slice(&p.body[pos..pos + *s as usize]);
            pos += *s as usize;
            if *s < 255 {
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    assert!(cur.is_empty(), "a packet was left unfinished");
    out
}

fn check_structure(webm: &[u8], seconds: f64) {
    let track = demux_opus(webm).unwrap();
    let ogg = webm_to_ogg(webm).unwrap();
    let pages = read_pages(&ogg.bytes);
    assert_eq!(pages[0].flags, 0x02, "first page is BOS only");
    assert!(pages.last().unwrap().flags & 0x04 != 0, "last page is EOS");
    assert!(pages.iter().all(|p| p.serial == pages[0].serial));
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p.sequence, i as u32);
    }
    let all = packets(&pages);
    assert!(all[0].starts_with(b"OpusHead"));
    // Chromium says pre-skip 0; the stream really starts with libopus's 312-sample delay.
    assert_eq!(u16::from_le_bytes([all[0][10], all[0][11]]), 312);
    assert_eq!(&all[0][..10], &track.head[..10]);
    assert_eq!(&all[0][12..], &track.head[12..]);
    assert!(all[1].starts_with(b"OpusTags"));
    assert_eq!(pages[0].packets_ending, 1, "OpusHead alone on its page");
    // Every audio packet carried over byte for byte, in order.
    assert_eq!(&all[2..], &track.packets[..]);
    // ...and the demuxer dropped, split or merged none: ffmpeg's own WebM demuxer finds the
    // same packets, of the same sizes, in the recording.
    let webm_path = write_temp(&format!("recording-{}.webm", webm.len()), webm);
    // One `duration=D|size=S` line per packet, D in the stream's time base (Matroska: ms).
    let listing = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "packet=size,duration:stream=time_base",
            "-of",
            "compact=p=0",
            webm_path.to_str().unwrap(),
        ],
    );
    let field = |line: &str, key: &str| -> Option<u64> {
        line.split('|')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.parse().unwrap_or_else(|e| panic!("{line:?}: {e}")))
    };
    assert!(listing.contains("time_base=1/1000"), "{listing}");
    let probed: Vec<(u64, u64)> = listing
        .lines()
        .filter(|l| l.contains("size="))
        .map(|l| (field(l, "size").unwrap(), field(l, "duration").unwrap()))
        .collect();
    let ffprobe_sizes: Vec<usize> = probed.iter().map(|(s, _)| *s as usize).collect();
    // The crate's sample count agrees with ffmpeg's packet durations (48 samples per ms).
    let probed_samples: u64 = probed.iter().map(|(_, d)| d * 48).sum();
    let ogg_sizes: Vec<usize> = all[2..].iter().map(Vec::len).collect();
    assert!(!ffprobe_sizes.is_empty(), "ffprobe found no packet");
    assert_eq!(ogg_sizes, ffprobe_sizes, "packet sizes, in order");
    // Granule positions grow and the last one counts every sample.
    let granules: Vec<u64> = pages[2..].iter().map(|p| p.granule).collect();
    assert!(
        granules.windows(2).all(|w| w[0] < w[1]),
        "granules increase"
    );
    let samples: u64 = track
        .packets
        .iter()
        .map(|p| packet_samples(p).unwrap() as u64)
        .sum();
    assert_eq!(*granules.last().unwrap(), samples);
    assert_eq!(
        samples, probed_samples,
        "samples by ffprobe's packet durations"
    );
    // The recording's length, within the MediaRecorder's start-up slack.
    let secs = ogg.duration_ms as f64 / 1000.0;
    assert!(
        (secs - seconds).abs() < 0.6,
        "duration {secs} s, recorded {seconds} s"
    );
    assert_eq!(ogg.channels, 1);
}

#[test]
fn chromium_recordings_remux_packet_for_packet() {
    check_structure(&fixture("chromium-fake-mic-3s.webm"), 3.0);
    check_structure(&fixture("chromium-fake-mic-8s.webm"), 8.0);
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parley-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!("{cmd} is needed for this test (scripts/setup installs it): {e}")
    });
    assert!(
        out.status.success(),
        "{cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn real_decoders_accept_the_output() {
    let ogg = webm_to_ogg(&fixture("chromium-fake-mic-8s.webm")).unwrap();
    let path = write_temp("voice.ogg", &ogg.bytes);
    let path = path.to_str().unwrap();

    // opusinfo walks every page and packet and complains about any irregularity.
    let info = run("opusinfo", &[path]);
    assert!(!info.contains("WARNING"), "opusinfo warned:\n{info}");
    assert!(info.contains("Channels: 1"), "{info}");

    // ffprobe agrees on container, codec and length; a full decode shows no error.
    let probe = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "format=format_name,duration:stream=codec_name,sample_rate",
            "-of",
            "default=nw=1",
            path,
        ],
    );
    assert!(probe.contains("format_name=ogg"), "{probe}");
    assert!(probe.contains("codec_name=opus"), "{probe}");
    let duration: f64 = probe
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (duration - ogg.duration_ms as f64 / 1000.0).abs() < 0.05,
        "{probe}"
    );
    let decode = Command::new("ffmpeg")
        .args(["-v", "error", "-i", path, "-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&decode.stderr)
    );
    assert_eq!(OGG_OPUS_MIME, "audio/ogg; codecs=opus");
}

#[test]
fn other_recordings_are_refused_with_the_reason() {
    assert_eq!(
        webm_to_ogg(b"RIFF....WAVEfmt ").unwrap_err(),
        RemuxError::NotWebm
    );
    // Same file with its codec renamed: not Opus, so the app keeps the WebM.
    let mut vorbis = fixture("chromium-fake-mic-3s.webm");
    let at = vorbis.windows(6).position(|w| w == b"A_OPUS").unwrap();
    vorbis[at..at + 6].copy_from_slice(b"A_VORB");
    assert_eq!(
        webm_to_ogg(&vorbis).unwrap_err(),
        RemuxError::NotOpus("A_VORB".into())
    );
    let msg = RemuxError::NotOpus("A_VORB".into()).to_string();
    assert!(msg.contains("not Opus"));
}

#[test]
fn a_recording_cut_short_keeps_its_whole_packets() {
    let full = fixture("chromium-fake-mic-3s.webm");
    let whole = demux_opus(&full).unwrap().packets.len();
    let cut = &full[..full.len() - 100];
    let track = demux_opus(cut).unwrap();
    assert!(track.packets.len() < whole && track.packets.len() > whole - 10);
    let ogg = webm_to_ogg(cut).unwrap();
    assert_eq!(
        packets(&read_pages(&ogg.bytes)).len(),
        track.packets.len() + 2
    );
}

/// What a remux gave is a whole Ogg Opus stream (pages in sequence from BOS to EOS, every
/// packet finished, the two headers first); its audio packets.
fn whole_stream(ogg: &[u8]) -> Vec<Vec<u8>> {
    let pages = read_pages(ogg);
    assert!(!pages.is_empty(), "no page at all");
    assert_eq!(pages[0].flags, 0x02, "first page is BOS only");
    assert!(pages.last().unwrap().flags & 0x04 != 0, "last page is EOS");
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p.sequence, i as u32);
        assert_eq!(p.serial, pages[0].serial);
    }
    let all = packets(&pages);
    assert!(all[0].starts_with(b"OpusHead"));
    assert!(all[1].starts_with(b"OpusTags"));
    all[2..].to_vec()
}

/// A recording cut short (the tab closed mid-upload, a partial blob) is a shorter stream:
/// the packets before the cut, in order, none invented. The cuts span the whole file, so the
/// `Ok` branch of the property below is known to be reached, not only its errors.
#[test]
fn a_truncated_recording_is_a_prefix_of_the_stream() {
    let bytes = fixture("chromium-fake-mic-3s.webm");
    let full = whole_stream(&webm_to_ogg(&bytes).unwrap().bytes);
    let mut shorter = 0;
    for cut in (1_000..bytes.len()).step_by(997) {
        match webm_to_ogg(&bytes[..cut]) {
            Ok(ogg) => {
                let got = whole_stream(&ogg.bytes);
                assert!(
                    got.len() < full.len(),
                    "cut at {cut}: {} packets",
                    got.len()
                );
                assert_eq!(&got[..], &full[..got.len()], "cut at {cut}");
                shorter += 1;
            }
            Err(e) => assert_eq!(e, RemuxError::Empty, "cut at {cut}"),
        }
    }
    assert!(shorter > 30, "only {shorter} cuts gave a stream");
}

proptest! {
    // Damaged input is an error or a whole (shorter) stream, never a panic.
    #[test]
    fn damaged_recordings_never_panic(cut in 0usize..40_876, flips in proptest::collection::vec((0usize..40_876, any::<u8>()), 0..8)) {
        let mut bytes = fixture("chromium-fake-mic-3s.webm");
        for (at, b) in flips {
            if at < bytes.len() { bytes[at] = b; }
        }
        bytes.truncate(cut.min(bytes.len()));
        if let Ok(ogg) = webm_to_ogg(&bytes) {
            whole_stream(&ogg.bytes);
        }
    }
}
