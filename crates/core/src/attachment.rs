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

/// A link a message may carry (a card's button, an article, an email address), if it is
/// safe to put in an `href`: `http(s)://`, `mailto:` and `tel:` only, so no `javascript:`
/// or `data:` URL from a bot or a customer ever becomes clickable.
pub fn safe_link(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let ok = !url.chars().any(|c| c.is_control() || c.is_whitespace())
        && ["https://", "http://", "mailto:", "tel:"]
            .iter()
            .any(|p| lower.starts_with(p) && lower.len() > p.len());
    ok.then_some(url)
}

/// A link to a place on OpenStreetMap (the map opens there; nothing is fetched here),
/// `None` for coordinates that are not a place on Earth.
pub fn map_link(lat: f64, long: f64) -> Option<String> {
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&long) {
        return None;
    }
    let (lat, long) = (micro_degrees(lat), micro_degrees(long));
    Some(format!(
        "https://www.openstreetmap.org/?mlat={lat}&mlon={long}#map=16/{lat}/{long}"
    ))
}

/// Degrees with six decimals (about 10 cm), written from an integer: formatting a float
/// with a precision would bring the float printer into the wasm.
fn micro_degrees(deg: f64) -> String {
    let micro = (deg * 1e6).round() as i64;
    let sign = if micro < 0 { "-" } else { "" };
    let micro = micro.unsigned_abs();
    format!("{sign}{}.{:06}", micro / 1_000_000, micro % 1_000_000)
}

/// A phone number as a `tel:` link: the digits and a leading `+`, or `None` without digits.
pub fn tel_link(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let plus = if phone.trim_start().starts_with('+') {
        "+"
    } else {
        ""
    };
    (!digits.is_empty()).then(|| format!("tel:{plus}{digits}"))
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

/// Chatwoot's limit of files per message (`NUMBER_OF_PERMITTED_ATTACHMENTS`).
pub const MAX_FILES_PER_MESSAGE: usize = 15;

/// A file travelling with a queued message, as the outbox persists it. The bytes are not
/// here: they stay a browser Blob, stored under `blob_key` next to the outbox entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentDraft {
    pub blob_key: String,
    pub file_name: String,
    pub mime: String,
    pub size: u64,
}

/// The exact types the dashboard's file input accepts besides `image/*`, `audio/*` and
/// `video/*` (Chatwoot's `ALLOWED_FILE_TYPES`, `shared/constants/messages.js`). Chatwoot
/// writes 7z, rar and tar without commas between them, so its picker silently drops them;
/// they are meant to be accepted, and are here.
const ACCEPTED_DOCUMENT_TYPES: &[&str] = &[
    "text/csv",
    "text/plain",
    "application/json",
    "application/pdf",
    "text/rtf",
    "application/zip",
    "application/x-7z-compressed",
    "application/vnd.rar",
    "application/x-tar",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];

/// Extensions of those types, for files the browser gives no type (a `.csv` on some
/// systems, a `.3gpp` recording, drags from some file managers).
const ACCEPTED_EXTENSIONS: &[(&str, &str)] = &[
    ("3gpp", "video/3gpp"),
    ("csv", "text/csv"),
    ("txt", "text/plain"),
    ("json", "application/json"),
    ("pdf", "application/pdf"),
    ("rtf", "text/rtf"),
    ("zip", "application/zip"),
    ("7z", "application/x-7z-compressed"),
    ("rar", "application/vnd.rar"),
    ("tar", "application/x-tar"),
    ("doc", "application/msword"),
    ("xls", "application/vnd.ms-excel"),
    ("ppt", "application/vnd.ms-powerpoint"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
];

/// The `accept` attribute of the file picker: the same list.
pub fn picker_accept() -> String {
    let mut parts = vec!["image/*", "audio/*", "video/*", ".3gpp"];
    parts.extend_from_slice(ACCEPTED_DOCUMENT_TYPES);
    parts.join(",")
}

/// The type a file is sent as: its own when the browser gave one, else the one its
/// extension stands for; `None` when Chatwoot does not accept it.
pub fn accepted_mime(mime: &str, file_name: &str) -> Option<String> {
    // "text/plain; charset=utf-8" is text/plain.
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence.is_empty() {
        let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        return ACCEPTED_EXTENSIONS
            .iter()
            .find(|(e, _)| *e == ext)
            .map(|(_, m)| (*m).to_owned());
    }
    let media = ["image/", "audio/", "video/"]
        .iter()
        .any(|p| essence.starts_with(p) && essence.len() > p.len());
    if !(media || ACCEPTED_DOCUMENT_TYPES.contains(&essence.as_str())) {
        return None;
    }
    // An audio file keeps its codec: `audio/ogg; codecs=opus` is what tells a channel
    // (WhatsApp, Telegram) that a voice note is Opus, not Vorbis.
    let codecs = essence
        .starts_with("audio/")
        .then(|| {
            mime.split(';').skip(1).find_map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim().trim_matches('"').to_ascii_lowercase();
                (k.trim().eq_ignore_ascii_case("codecs") && !v.is_empty()).then_some(v)
            })
        })
        .flatten();
    Some(match codecs {
        Some(c) => format!("{essence}; codecs={c}"),
        None => essence,
    })
}

/// Why a file cannot be attached; the message names the file and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// Sizes in bytes: the app writes them in the agent's language and units; this
    /// English text (for logs and tests) uses [`human_size`] and [`limit_label`].
    #[error("“{name}” is {}, over the {} limit per file.", human_size(byte_count(*.size)), limit_label(*.limit))]
    TooBig { name: String, size: u64, limit: u64 },
    #[error("“{name}” can't be sent: this type of file is not accepted.")]
    TypeNotAccepted { name: String },
    #[error("“{name}” is empty.")]
    Empty { name: String },
    #[error("“{name}” was not added: a message can carry at most {max} files.")]
    TooMany { name: String, max: usize },
}

/// Checks one file about to join `already` others in a message, before anything is
/// uploaded; returns the type it will be sent as.
pub fn check_file(
    name: &str,
    mime: &str,
    size: u64,
    already: usize,
    max_file_bytes: u64,
) -> Result<String, FileRefusal> {
    if already >= MAX_FILES_PER_MESSAGE {
        return Err(FileRefusal::TooMany {
            name: name.to_owned(),
            max: MAX_FILES_PER_MESSAGE,
        });
    }
    let mime = accepted_mime(mime, name).ok_or_else(|| FileRefusal::TypeNotAccepted {
        name: name.to_owned(),
    })?;
    if size == 0 {
        return Err(FileRefusal::Empty {
            name: name.to_owned(),
        });
    }
    if size > max_file_bytes {
        return Err(FileRefusal::TooBig {
            name: name.to_owned(),
            size,
            limit: max_file_bytes,
        });
    }
    Ok(mime)
}

/// A size limit as people set it: "40 MB" when it is whole megabytes, else as a size.
pub fn limit_label(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else {
        human_size(byte_count(bytes))
    }
}

/// A byte count as the signed sizes of the wire types (clamped, not wrapped).
fn byte_count(bytes: u64) -> i64 {
    bytes.min(i64::MAX as u64) as i64
}

/// How a pending file is previewed before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewKind {
    /// A thumbnail of the image itself.
    Image,
    /// The first frame of the video (its poster).
    Video,
    /// An icon with the name and size.
    Other,
}

pub fn preview_kind(mime: &str) -> PreviewKind {
    // SVG could carry script; it is shown as a file, never rendered.
    if mime.starts_with("image/") && mime != "image/svg+xml" {
        PreviewKind::Image
    } else if mime.starts_with("video/") {
        PreviewKind::Video
    } else {
        PreviewKind::Other
    }
}

/// The `file_type` telemetry reports, in Chatwoot's words (`FileTypeHelper`): no names.
pub fn telemetry_file_type(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" | "image/png" | "image/gif" | "image/bmp" | "image/webp" => "image",
        "video/ogg" | "video/mp4" | "video/webm" | "video/quicktime" => "video",
        m if m.starts_with("audio/") => "audio",
        _ => "file",
    }
}
