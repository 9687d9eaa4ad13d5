//! The one thing OGG needs to know about an Opus packet: how many samples it holds.

/// Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1).
/// `None` for an empty or malformed packet.
pub fn packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame: u32 = match config {
        // SILK-only: 10, 20, 40, 60 ms
        0..=11 => [480, 960, 1920, 2880][(config % 4) as usize],
        // Hybrid: 10, 20 ms
        12..=15 => [480, 960][(config % 2) as usize],
        // CELT-only: 2.5, 5, 10, 20 ms
        _ => [120, 240, 480, 960][(config % 4) as usize],
    };
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => (*packet.get(1)? & 0x3F) as u32,
    };
    let samples = frame * frames;
    // RFC 6716: a packet holds at most 120 ms.
    (frames > 0 && samples <= 5760).then_some(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toc_configurations() {
        // config 31 (CELT 20 ms), one frame: what Chromium records.
        assert_eq!(packet_samples(&[0xFC]), Some(960));
        assert_eq!(packet_samples(&[31 << 3 | 1]), Some(1920));
        // SILK 60 ms.
        assert_eq!(packet_samples(&[3 << 3]), Some(2880));
        // Hybrid 10 ms.
        assert_eq!(packet_samples(&[12 << 3]), Some(480));
        // CELT 2.5 ms, code 3 with 4 frames.
        assert_eq!(packet_samples(&[16 << 3 | 3, 4]), Some(480));
        // Code 3 with 0 frames or over 120 ms is malformed.
        assert_eq!(packet_samples(&[16 << 3 | 3, 0]), None);
        assert_eq!(packet_samples(&[3 << 3 | 3, 3]), None);
        assert_eq!(packet_samples(&[]), None);
    }
}
