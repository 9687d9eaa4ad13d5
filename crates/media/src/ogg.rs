//! Writing Opus packets into an Ogg stream (RFC 3533 pages, RFC 7845 Opus mapping).

use crate::opus::packet_samples;
use crate::webm::OpusTrack;
use crate::OggOpus;

/// The type a remuxed voice note is uploaded as.
pub const OGG_OPUS_MIME: &str = "audio/ogg; codecs=opus";

const VENDOR: &[u8] = b"Parley (remuxed from WebM, not re-encoded)";
/// RFC 7845 recommends pages of at most about one second of audio.
const SAMPLES_PER_PAGE: u64 = 48_000;
const FLAG_CONTINUED: u8 = 0x01;
const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;
/// libopus's encoder lookahead at 48 kHz (6.5 ms). Chromium's MediaRecorder writes a
/// pre-skip of 0 although its stream starts with this delay; decoders (and opusinfo)
/// expect it to be skipped, so an OpusHead that says 0 gets this instead.
const LIBOPUS_LOOKAHEAD: u16 = 312;

/// CRC-32 as Ogg uses it: polynomial 0x04C11DB7, no reflection, no final xor.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut j = 0;
        while j < 8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04C1_1DB7
            } else {
                r << 1
            };
            j += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
};

pub(crate) fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |crc, b| {
        (crc << 8) ^ CRC_TABLE[((crc >> 24) as u8 ^ b) as usize]
    })
}

/// Accumulates packets into pages of one logical stream.
struct PageWriter {
    out: Vec<u8>,
    serial: u32,
    sequence: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
    /// The page's first segment continues a packet from the previous page.
    continued: bool,
    /// Whether any packet ends on the current page (else its granule is -1).
    packet_ended: bool,
    /// Granule position after the last packet that ended on this page.
    granule: u64,
}

impl PageWriter {
    fn new(serial: u32) -> Self {
        PageWriter {
            out: Vec::new(),
            serial,
            sequence: 0,
            lacing: Vec::new(),
            body: Vec::new(),
            continued: false,
            packet_ended: false,
            granule: 0,
        }
    }

    /// Add a packet; pages are flushed when their 255 lacing values are used up, and the
    /// packet continues on the next page.
    fn packet(&mut self, packet: &[u8], granule: u64) {
        let mut rest = packet;
        loop {
            if self.lacing.len() == 255 {
                self.flush(0);
                self.continued = true;
            }
            let take = rest.len().min(255);
            self.lacing.push(take as u8);
            self.body.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            // A segment shorter than 255 ends the packet (a multiple of 255 ends with 0).
            if take < 255 {
                self.packet_ended = true;
                self.granule = granule;
                return;
            }
        }
    }

    fn flush(&mut self, flags: u8) {
        if self.lacing.is_empty() && flags & FLAG_EOS == 0 {
            return;
        }
        let granule = if self.packet_ended {
            self.granule
        } else {
            u64::MAX
        };
        let start = self.out.len();
        self.out.extend_from_slice(b"OggS");
        self.out.push(0);
        let continued = if self.continued { FLAG_CONTINUED } else { 0 };
        self.out.push(flags | continued);
        self.out.extend_from_slice(&granule.to_le_bytes());
        self.out.extend_from_slice(&self.serial.to_le_bytes());
        self.out.extend_from_slice(&self.sequence.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        self.out.push(self.lacing.len() as u8);
        self.out.extend_from_slice(&self.lacing);
        self.out.extend_from_slice(&self.body);
        let crc = crc32(&self.out[start..]);
        self.out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
        self.sequence += 1;
        self.lacing.clear();
        self.body.clear();
        self.continued = false;
        self.packet_ended = false;
    }
}

/// Lay out an Opus track as an Ogg Opus stream: OpusHead alone on the first page (BOS),
/// OpusTags on its own page, then the audio, about a second per page, EOS on the last.
pub(crate) fn write_ogg_opus(track: &OpusTrack) -> OggOpus {
    // A serial number derived from the content, so the same recording remuxes to the same
    // bytes (reproducible tests, and a retry uploads identical data).
    let serial = track
        .packets
        .iter()
        .take(16)
        .fold(crc32(&track.head), |acc, p| acc.rotate_left(5) ^ crc32(p));
    let mut w = PageWriter::new(serial);

    let mut head = track.head.clone();
    if u16::from_le_bytes([head[10], head[11]]) == 0 {
        head[10..12].copy_from_slice(&LIBOPUS_LOOKAHEAD.to_le_bytes());
    }
    w.packet(&head, 0);
    w.flush(FLAG_BOS);

    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(VENDOR.len() as u32).to_le_bytes());
    tags.extend_from_slice(VENDOR);
    tags.extend_from_slice(&0u32.to_le_bytes());
    w.packet(&tags, 0);
    w.flush(0);

    let mut granule = 0u64;
    let mut page_start = 0u64;
    let last = track.packets.len().saturating_sub(1);
    for (i, packet) in track.packets.iter().enumerate() {
        // A packet whose TOC we cannot read still goes through untouched; count it as the
        // most common frame (20 ms) so time keeps moving.
        granule += packet_samples(packet).unwrap_or(960) as u64;
        w.packet(packet, granule);
        if i == last {
            w.flush(FLAG_EOS);
        } else if granule - page_start >= SAMPLES_PER_PAGE {
            w.flush(0);
            page_start = granule;
        }
    }

    let pre_skip = u16::from_le_bytes([head[10], head[11]]) as u64;
    OggOpus {
        bytes: w.out,
        duration_ms: granule.saturating_sub(pre_skip) / 48,
        channels: track.channels,
        packets: track.packets.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_ogg_reference() {
        // The CRC of "OggS" with this polynomial (no reflection, init 0).
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0x89A1_897F);
    }

    #[test]
    fn a_packet_longer_than_a_page_continues_on_the_next() {
        let mut w = PageWriter::new(1);
        let big = vec![7u8; 255 * 300];
        w.packet(&big, 960);
        w.flush(FLAG_EOS);
        // Two pages: the first full (255 lacing values, no packet ends: granule -1).
        let first_granule = u64::from_le_bytes(w.out[6..14].try_into().unwrap());
        assert_eq!(first_granule, u64::MAX);
        assert_eq!(w.out[26], 255);
        let second = 27 + 255 + 255 * 255;
        assert_eq!(&w.out[second..second + 4], b"OggS");
        assert_eq!(w.out[second + 5], FLAG_CONTINUED | FLAG_EOS);
        let g = u64::from_le_bytes(w.out[second + 6..second + 14].try_into().unwrap());
        assert_eq!(g, 960);
    }
}
