//! What the log needs to show an attachment, decided without a browser: whether its URL
//! may be used at all, the name to show, a readable size, and the box an image takes
//! before it has loaded (so the list does not jump when it arrives).
//!
//! Attachment URLs and names are untrusted input (a customer's upload, another server's
//! payload): only `http`, `https` and same-origin paths are ever put into `src` or `href`.

/// The URL, if it is safe to load or link: `http(s)://…`, `//host/…` or `/path`.
pub fn safe_url(url: &str) -> Option<&str> {
    let url = url.trim();
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("/\\"));
    ok.then_some(url)
}

/// The file's name, from the last segment of its URL (Chatwoot's `data_url` ends with it),
/// percent-decoded; "file" when there is none.
pub fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    let decoded = percent_decode(last);
    let name = decoded.trim();
    if name.is_empty() {
        "file".to_owned()
    } else {
        name.to_owned()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// "812 B", "12 KB", "3.4 MB" (powers of 1024, as file managers show them).
pub fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b < 1024.0 {
        format!("{} B", bytes.max(0))
    } else if b < 1024.0 * 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} GB", b / (1024.0 * 1024.0 * 1024.0))
    }
}

/// The box an image of `width`×`height` takes in the log, scaled down (never up) to fit
/// `max_w`×`max_h`; `None` when the size is unknown (then the UI reserves a default box).
pub fn thumb_box(
    width: Option<i64>,
    height: Option<i64>,
    max_w: u32,
    max_h: u32,
) -> Option<(u32, u32)> {
    let (w, h) = (width? as f64, height? as f64);
    if w < 1.0 || h < 1.0 {
        return None;
    }
    let scale = (max_w as f64 / w).min(max_h as f64 / h).min(1.0);
    Some((
        ((w * scale).round() as u32).max(1),
        ((h * scale).round() as u32).max(1),
    ))
}
