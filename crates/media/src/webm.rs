//! Demuxing the Opus track out of a WebM file as MediaRecorder writes it: an unknown-size
//! Segment, unknown-size Clusters, SimpleBlocks (and, from other muxers, BlockGroups and
//! laced blocks).

use crate::ebml::{self, read_header};
use crate::RemuxError;

const EBML_HEADER: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const CODEC_PRIVATE: u32 = 0x63A2;
const CODEC_DELAY: u32 = 0x56AA;
const AUDIO: u32 = 0xE1;
const SAMPLING_FREQUENCY: u32 = 0xB5;
const CHANNELS: u32 = 0x9F;
const CLUSTER: u32 = 0x1F43_B675;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const SIMPLE_BLOCK: u32 = 0xA3;
const TRACK_TYPE_AUDIO: u64 = 2;

/// The Opus track of a recording: its `OpusHead` and its packets in order.
#[derive(Debug, Clone, PartialEq)]
pub struct OpusTrack {
    /// The 19+ byte `OpusHead` identification header (from CodecPrivate, or built from the
    /// track's channel count when a muxer left it out).
    pub head: Vec<u8>,
    pub channels: u8,
    pub packets: Vec<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Track {
    number: u64,
    kind: Option<u64>,
    codec: String,
    private: Vec<u8>,
    codec_delay_ns: u64,
    channels: u8,
    rate: f64,
}

fn parse_track(data: &[u8]) -> Track {
    let mut t = Track {
        channels: 1,
        rate: 48_000.0,
        ..Default::default()
    };
    for (id, body) in ebml::children(data) {
        match id {
            TRACK_NUMBER => t.number = ebml::read_uint(body),
            TRACK_TYPE => t.kind = Some(ebml::read_uint(body)),
            CODEC_ID => t.codec = String::from_utf8_lossy(body).trim_end_matches('\0').into(),
            CODEC_PRIVATE => t.private = body.to_vec(),
            CODEC_DELAY => t.codec_delay_ns = ebml::read_uint(body),
            AUDIO => {
                for (id, body) in ebml::children(body) {
                    match id {
                        CHANNELS => t.channels = ebml::read_uint(body).clamp(1, 255) as u8,
                        SAMPLING_FREQUENCY => t.rate = ebml::read_float(body).unwrap_or(t.rate),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    t
}

/// A minimal `OpusHead` (RFC 7845 §5.1) for a track whose muxer left CodecPrivate out.
fn synth_head(channels: u8, rate: f64, pre_skip: u16) -> Vec<u8> {
    let mut h = b"OpusHead".to_vec();
    h.push(1);
    h.push(channels);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&(rate as u32).to_le_bytes());
    h.extend_from_slice(&0i16.to_le_bytes());
    h.push(0);
    h
}

/// Split a Block's payload into its frames according to its lacing.
fn unlace(flags: u8, data: &[u8], at: usize) -> Result<Vec<&[u8]>, RemuxError> {
    let bad = || RemuxError::Malformed(at);
    let lacing = (flags >> 1) & 0x03;
    if lacing == 0 {
        return Ok(vec![data]);
    }
    let count = *data.first().ok_or_else(bad)? as usize + 1;
    let mut pos = 1;
    let mut sizes = Vec::with_capacity(count);
    match lacing {
        // Xiph: each size but the last as a run of 255s and a final byte.
        1 => {
            for _ in 0..count - 1 {
                let mut size = 0usize;
                loop {
                    let b = *data.get(pos).ok_or_else(bad)?;
                    pos += 1;
                    size += b as usize;
                    if b != 255 {
                        break;
                    }
                }
                sizes.push(size);
            }
        }
        // Fixed: equal sizes.
        2 => {
            let rest = data.len() - pos;
            if !rest.is_multiple_of(count) {
                return Err(bad());
            }
            sizes.extend(std::iter::repeat_n(rest / count, count - 1));
        }
        // EBML: the first size as a vint, the others as signed differences.
        _ => {
            let (first, len) = ebml::read_size(data, pos).ok_or_else(bad)?;
            pos += len;
            let mut size = first.ok_or_else(bad)? as i64;
            sizes.push(size as usize);
            for _ in 1..count - 1 {
                let (raw, len) = ebml::read_size(data, pos).ok_or_else(bad)?;
                let raw = raw.ok_or_else(bad)? as i64;
                let bias = (1i64 << (7 * len - 1)) - 1;
                pos += len;
                size += raw - bias;
                if size < 0 {
                    return Err(bad());
                }
                sizes.push(size as usize);
            }
        }
    }
    let mut frames = Vec::with_capacity(count);
    for size in sizes {
        let end = pos.checked_add(size).ok_or_else(bad)?;
        frames.push(data.get(pos..end).ok_or_else(bad)?);
        pos = end;
    }
    frames.push(data.get(pos..).ok_or_else(bad)?);
    Ok(frames)
}

/// Take the Opus track out of a WebM file.
pub fn demux_opus(buf: &[u8]) -> Result<OpusTrack, RemuxError> {
    let first = read_header(buf, 0).ok_or(RemuxError::NotWebm)?;
    if first.id != EBML_HEADER {
        return Err(RemuxError::NotWebm);
    }
    let header_end = first.data_start + first.size.ok_or(RemuxError::NotWebm)? as usize;
    let header = buf
        .get(first.data_start..header_end)
        .ok_or(RemuxError::NotWebm)?;
    let doc_type = ebml::children(header)
        .find(|(id, _)| *id == DOC_TYPE)
        .map(|(_, b)| String::from_utf8_lossy(b).trim_end_matches('\0').to_owned());
    if !matches!(doc_type.as_deref(), Some("webm") | Some("matroska")) {
        return Err(RemuxError::NotWebm);
    }

    let mut tracks: Vec<Track> = Vec::new();
    let mut opus: Option<usize> = None;
    let mut packets = Vec::new();
    let mut pos = header_end;
    // A flat walk: step into the masters that hold what we need (whether or not their size
    // is known), read Tracks whole, skip everything else by its size.
    while pos < buf.len() {
        let Some(h) = read_header(buf, pos) else {
            return Err(RemuxError::Malformed(pos));
        };
        match h.id {
            SEGMENT | CLUSTER | BLOCK_GROUP => {
                pos = h.data_start;
                continue;
            }
            _ => {}
        }
        let Some(size) = h.size else {
            return Err(RemuxError::Malformed(pos));
        };
        let end = h.data_start.saturating_add(size as usize);
        let Some(body) = buf.get(h.data_start..end) else {
            // A recording cut short mid-block (tab closed while saving): keep what is whole.
            if matches!(h.id, SIMPLE_BLOCK | BLOCK) && opus.is_some() {
                break;
            }
            return Err(RemuxError::Malformed(pos));
        };
        match h.id {
            TRACKS => {
                tracks = ebml::children(body)
                    .filter(|(id, _)| *id == TRACK_ENTRY)
                    .map(|(_, b)| parse_track(b))
                    .collect();
                let audio = tracks
                    .iter()
                    .position(|t| t.kind == Some(TRACK_TYPE_AUDIO) || t.codec.starts_with("A_"));
                let Some(audio) = audio else {
                    return Err(RemuxError::NoAudioTrack);
                };
                if tracks[audio].codec != "A_OPUS" {
                    return Err(RemuxError::NotOpus(tracks[audio].codec.clone()));
                }
                opus = Some(audio);
            }
            SIMPLE_BLOCK | BLOCK => {
                let Some(track) = opus.map(|i| &tracks[i]) else {
                    return Err(RemuxError::Malformed(pos));
                };
                let (number, len) =
                    ebml::read_size(body, 0).ok_or(RemuxError::Malformed(h.data_start))?;
                // Skip the 2-byte relative timecode; OGG counts samples instead.
                let flags_at = len + 2;
                let flags = *body
                    .get(flags_at)
                    .ok_or(RemuxError::Malformed(h.data_start))?;
                if number == Some(track.number) {
                    for frame in unlace(flags, &body[flags_at + 1..], h.data_start)? {
                        if !frame.is_empty() {
                            packets.push(frame.to_vec());
                        }
                    }
                }
            }
            _ => {}
        }
        pos = end;
    }

    let track = opus.map(|i| &tracks[i]).ok_or(RemuxError::NoAudioTrack)?;
    let head = if track.private.starts_with(b"OpusHead") && track.private.len() >= 19 {
        track.private.clone()
    } else {
        let pre_skip = (track.codec_delay_ns.saturating_mul(48) / 1_000_000).min(u16::MAX as u64);
        synth_head(track.channels, track.rate, pre_skip as u16)
    };
    Ok(OpusTrack {
        channels: head[9],
        head,
        packets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xiph_fixed_and_ebml_lacing() {
        // Xiph: 3 frames of sizes 300, 2, and the rest (1).
        let mut data = vec![2, 255, 45, 2];
        data.extend(std::iter::repeat_n(7u8, 300));
        data.extend([8, 8, 9]);
        let f = unlace(0x02, &data, 0).unwrap();
        assert_eq!(f.iter().map(|x| x.len()).collect::<Vec<_>>(), [300, 2, 1]);
        assert_eq!(f[2], [9]);

        // Fixed: 2 frames of 2 bytes.
        let f = unlace(0x04, &[1, 1, 2, 3, 4], 0).unwrap();
        assert_eq!(f, vec![&[1u8, 2][..], &[3, 4][..]]);
        assert!(unlace(0x04, &[1, 1, 2, 3], 0).is_err());

        // EBML: sizes 3, then 3 + (-1) = 2, then the rest (1).
        // First size vint 0x83 = 3; difference -1 as a 1-byte signed vint: 0x80 | (63 - 1).
        let data = [2, 0x83, 0x80 | 62, 1, 1, 1, 2, 2, 3];
        let f = unlace(0x06, &data, 0).unwrap();
        assert_eq!(f, vec![&[1u8, 1, 1][..], &[2, 2][..], &[3][..]]);
    }

    #[test]
    fn refuses_what_is_not_webm() {
        assert_eq!(demux_opus(b"OggS....").unwrap_err(), RemuxError::NotWebm);
        assert_eq!(demux_opus(&[]).unwrap_err(), RemuxError::NotWebm);
    }
}
