//! Uploads: file parts streamed to disk (never held whole in memory), and
//! stored files served at Rails-like URLs with headers that keep an uploaded HTML or SVG
//! from running script on this origin.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_wire::FileType;
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::auth::random_token;
use crate::db::{self, NewAttachment};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// A file written under the uploads dir, not yet attached to a message.
#[derive(Debug, Clone)]
pub struct StoredUpload {
    pub token: String,
    pub stored_name: String,
    pub filename: String,
    pub content_type: String,
    pub extension: Option<String>,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

impl StoredUpload {
    pub fn as_new(&self, message_id: i64, account_id: i64) -> NewAttachment<'_> {
        NewAttachment {
            message_id,
            account_id,
            file_type: file_type_name(&self.content_type),
            content_type: &self.content_type,
            filename: &self.filename,
            extension: self.extension.as_deref(),
            token: &self.token,
            stored_name: &self.stored_name,
            file_size: self.size,
            width: self.width,
            height: self.height,
        }
    }
}

fn file_type_name(content_type: &str) -> &'static str {
    match FileType::from_content_type(content_type) {
        FileType::Image => "image",
        FileType::Audio => "audio",
        FileType::Video => "video",
        _ => "file",
    }
}

/// Prefix of an upload still being written; renamed to its token once complete.
const PARTIAL_PREFIX: &str = ".part-";

/// Removes every partial upload in `dir`: at start, none can still be in progress.
pub fn remove_partial_uploads(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(PARTIAL_PREFIX)
        {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                tracing::warn!("cannot remove the partial upload {:?}: {e}", entry.path());
            }
        }
    }
}

/// A partial upload's file, removed when dropped unless it was completed: an error, a
/// refusal or a client that goes away mid-body (the request's future is then dropped)
/// all leave nothing behind.
struct PartialUpload {
    path: PathBuf,
    completed: bool,
}

impl Drop for PartialUpload {
    fn drop(&mut self) {
        if !self.completed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub fn remove_stored(dir: &Path, stored_name: &str) {
    let _ = std::fs::remove_file(dir.join(stored_name));
}

/// Stores bytes made in process (demo seed) as an upload.
pub fn store_bytes(
    dir: &Path,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> std::io::Result<StoredUpload> {
    let token = random_token(32);
    std::fs::write(dir.join(&token), bytes)?;
    let (width, height) = image_size(bytes).map_or((None, None), |(w, h)| (Some(w), Some(h)));
    Ok(StoredUpload {
        stored_name: token.clone(),
        token,
        filename: filename.to_owned(),
        content_type: content_type.to_owned(),
        extension: extension_of(filename),
        size: bytes.len() as i64,
        width,
        height,
    })
}

fn extension_of(filename: &str) -> Option<String> {
    let (_, ext) = filename.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 10 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| ext.to_ascii_lowercase())
}

/// Keeps a name safe to put in a URL path and a Content-Disposition header.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// A content type from the part's header, else from the file name.
fn content_type_for(declared: Option<&str>, filename: &str) -> String {
    let declared = declared
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty() && d != "application/octet-stream");
    if let Some(d) = declared {
        return d;
    }
    let guessed = match extension_of(filename).as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mp3") => "audio/mpeg",
        Some("ogg" | "opus") => "audio/ogg",
        Some("wav") => "audio/wav",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    };
    guessed.to_owned()
}

pub(crate) fn multipart_error(e: MultipartError) -> ApiError {
    ApiError::Status(e.status(), e.body_text())
}

/// Streams one file part to disk. `None` when it exceeds the size limit (the part is
/// drained and the partial file removed).
pub(crate) async fn store_field(
    state: &AppState,
    field: &mut Field<'_>,
) -> ApiResult<Option<StoredUpload>> {
    let filename = clean_filename(field.file_name().unwrap_or("file"));
    let content_type = content_type_for(field.content_type(), &filename);
    let token = random_token(32);
    let mut partial = PartialUpload {
        path: state.uploads_dir.join(format!("{PARTIAL_PREFIX}{token}")),
        completed: false,
    };
    let mut file = tokio::fs::File::create(&partial.path).await?;
    let mut size: u64 = 0;
    // The first bytes are enough to read image dimensions from the header.
    let mut head: Vec<u8> = Vec::new();
    let mut too_big = false;
    // A write that failed (a full disk): the part is still read to its end, so the client
    // gets the answer rather than a connection reset, but nothing more is written.
    let mut write_error: Option<std::io::Error> = None;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        if size > state.config.max_file_bytes {
            too_big = true;
            continue;
        }
        if write_error.is_some() {
            continue;
        }
        if head.len() < 65_536 {
            let take = (65_536 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        if let Err(e) = file.write_all(&chunk).await {
            write_error = Some(e);
        }
    }
    if write_error.is_none() {
        // Durable before the message that refers to it is committed.
        if let Err(e) = async {
            file.flush().await?;
            file.sync_all().await
        }
        .await
        {
            write_error = Some(e);
        }
    }
    drop(file);
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if too_big {
        return Ok(None);
    }
    tokio::fs::rename(&partial.path, state.uploads_dir.join(&token)).await?;
    partial.completed = true;
    let (width, height) = if FileType::from_content_type(&content_type) == FileType::Image {
        image_size(&head).map_or((None, None), |(w, h)| (Some(w), Some(h)))
    } else {
        (None, None)
    };
    Ok(Some(StoredUpload {
        stored_name: token.clone(),
        token,
        extension: extension_of(&filename),
        filename,
        content_type,
        size: size as i64,
        width,
        height,
    }))
}

/// Width and height from a PNG, GIF, WebP or JPEG header.
pub fn image_size(b: &[u8]) -> Option<(i64, i64)> {
    let be16 =
        |i: usize| -> Option<i64> { Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as i64) };
    let le16 =
        |i: usize| -> Option<i64> { Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as i64) };
    let le24 = |i: usize| -> Option<i64> {
        Some(*b.get(i)? as i64 | (*b.get(i + 1)? as i64) << 8 | (*b.get(i + 2)? as i64) << 16)
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16) == Some(b"IHDR") {
        let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?) as i64;
        let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?) as i64;
        return Some((w, h));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some((le16(6)?, le16(8)?));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        return match b.get(12..16)? {
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            b"VP8L" => {
                let (b1, b2, b3, b4) = (
                    *b.get(21)? as i64,
                    *b.get(22)? as i64,
                    *b.get(23)? as i64,
                    *b.get(24)? as i64,
                );
                let w = 1 + (((b2 & 0x3f) << 8) | b1);
                let h = 1 + (((b4 & 0x0f) << 10) | (b3 << 2) | ((b2 & 0xc0) >> 6));
                Some((w, h))
            }
            b"VP8X" => Some((1 + le24(24)?, 1 + le24(27)?)),
            _ => None,
        };
    }
    if b.starts_with(&[0xff, 0xd8]) {
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xff {
                i += 1;
                continue;
            }
            let marker = b[i + 1];
            let len = be16(i + 2)? as usize;
            let is_sof = (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
            if is_sof {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            i += 2 + len;
        }
    }
    None
}

/// Types a browser may render inline from this origin without running script.
fn renders_safely(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/bmp"
            | "video/mp4"
            | "video/webm"
            | "video/ogg"
            | "video/quicktime"
    ) || (content_type.starts_with("audio/") && !content_type.contains("xml"))
}

/// `GET /rails/active_storage/blobs/redirect/{token}/{filename}`: the stored file, with
/// Range support (audio and video seek) and headers that make it inert.
pub async fn serve_blob(
    State(state): State<AppState>,
    UrlPath((token, _filename)): UrlPath<(String, String)>,
    request: Request,
) -> Response {
    let found = state.db.with(|c| db::attachment_by_token(c, &token));
    let Ok(Some(att)) = found else {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    let path: PathBuf = state.uploads_dir.join(&att.stored_name);
    let mut response = match ServeFile::new(&path).oneshot(request).await {
        Ok(r) => r.map(Body::new),
        Err(_) => return (StatusCode::NOT_FOUND, "Not found").into_response(),
    };
    if !response.status().is_success() && response.status() != StatusCode::NOT_MODIFIED {
        return response;
    }
    let ct = att
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let inline = renders_safely(&ct);
    let h = response.headers_mut();
    let served_type = if inline {
        att.content_type.as_str()
    } else {
        // Never let a browser treat an arbitrary upload as a document of this origin.
        "application/octet-stream"
    };
    if let Ok(v) = HeaderValue::from_str(served_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    let encoded =
        percent_encoding::utf8_percent_encode(&att.filename, percent_encoding::NON_ALPHANUMERIC);
    let ascii: String = att
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        ascii,
        encoded
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_png_and_gif_sizes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(image_size(&png), Some((640, 480)));
        let gif = b"GIF89a\x20\x00\x10\x00";
        assert_eq!(image_size(gif), Some((32, 16)));
        assert_eq!(image_size(b"not an image"), None);
    }

    #[test]
    fn reads_jpeg_size_after_app_segments() {
        let mut j = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0];
        j.extend_from_slice(&[
            0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0, 0, 0,
        ]);
        assert_eq!(image_size(&j), Some((640, 480)));
    }

    #[test]
    fn only_media_render_inline() {
        assert!(renders_safely("image/png"));
        assert!(renders_safely("audio/ogg"));
        assert!(!renders_safely("image/svg+xml"));
        assert!(!renders_safely("text/html"));
        assert!(!renders_safely("application/pdf"));
    }

    #[test]
    fn filenames_are_cleaned() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\"b.txt"), "ab.txt");
        assert_eq!(clean_filename(""), "file");
        assert_eq!(extension_of("Photo.JPG").as_deref(), Some("jpg"));
    }
}
