//! Just enough EBML (the binary format under Matroska/WebM) to walk elements.

/// An element header: its ID (marker bits kept, as the spec writes IDs), where its data
/// starts, and its data size (`None` for the "unknown size" MediaRecorder uses for the
/// Segment and live Clusters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub id: u32,
    pub data_start: usize,
    pub size: Option<u64>,
}

/// Length of a variable-size integer from its first byte (1..=8), `None` for 0x00.
fn vint_len(first: u8) -> Option<usize> {
    (first != 0).then(|| first.leading_zeros() as usize + 1)
}

/// Read an element ID at `pos` (1 to 4 bytes, marker kept).
pub fn read_id(buf: &[u8], pos: usize) -> Option<(u32, usize)> {
    let len = vint_len(*buf.get(pos)?)?;
    if len > 4 {
        return None;
    }
    let bytes = buf.get(pos..pos + len)?;
    Some((bytes.iter().fold(0u32, |acc, b| acc << 8 | *b as u32), len))
}

/// Read a size vint at `pos` (marker removed); all ones means unknown.
pub fn read_size(buf: &[u8], pos: usize) -> Option<(Option<u64>, usize)> {
    let len = vint_len(*buf.get(pos)?)?;
    let bytes = buf.get(pos..pos + len)?;
    let mask = if len == 8 { 0 } else { 0xFFu8 >> len };
    let mut value = (bytes[0] & mask) as u64;
    for b in &bytes[1..] {
        value = value << 8 | *b as u64;
    }
    let all_ones = (1u64 << (7 * len)) - 1;
    Some(((value != all_ones).then_some(value), len))
}

/// Read the element header at `pos`.
pub fn read_header(buf: &[u8], pos: usize) -> Option<Header> {
    let (id, id_len) = read_id(buf, pos)?;
    let (size, size_len) = read_size(buf, pos + id_len)?;
    Some(Header {
        id,
        data_start: pos + id_len + size_len,
        size,
    })
}

/// Big-endian unsigned integer of 0 to 8 bytes.
pub fn read_uint(data: &[u8]) -> u64 {
    data.iter().take(8).fold(0, |acc, b| acc << 8 | *b as u64)
}

/// IEEE float of 4 or 8 bytes.
pub fn read_float(data: &[u8]) -> Option<f64> {
    match data.len() {
        4 => Some(f32::from_be_bytes(data.try_into().ok()?) as f64),
        8 => Some(f64::from_be_bytes(data.try_into().ok()?)),
        _ => None,
    }
}

/// The child elements of a known-size master element's data.
pub fn children(data: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let h = read_header(data, pos)?;
        let end = h.data_start.checked_add(h.size? as usize)?;
        let body = data.get(h.data_start..end)?;
        pos = end;
        Some((h.id, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ids() {
        assert_eq!(read_size(&[0x81], 0), Some((Some(1), 1)));
        assert_eq!(read_size(&[0x40, 0x02], 0), Some((Some(2), 2)));
        assert_eq!(read_size(&[0xFF], 0), Some((None, 1)));
        assert_eq!(
            read_size(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], 0),
            Some((None, 8))
        );
        assert_eq!(read_size(&[0x00], 0), None);
        assert_eq!(read_id(&[0x1A, 0x45, 0xDF, 0xA3], 0), Some((0x1A45DFA3, 4)));
        assert_eq!(read_id(&[0xA3], 0), Some((0xA3, 1)));
        assert_eq!(read_uint(&[0x0F, 0x42, 0x40]), 1_000_000);
    }
}
