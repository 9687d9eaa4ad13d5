//! Pure media handling for Parley.
//!
//! Chromium's MediaRecorder records voice notes as WebM/Opus; WhatsApp and Telegram accept
//! OGG/Opus (chatwoot#12713, #7177). Both containers carry the very same Opus packets, so
//! [`webm_to_ogg`] moves them from one to the other without decoding: no re-encode, no
//! ffmpeg.wasm, and it runs anywhere (`cargo test` natively, the app in wasm).

mod ebml;
mod ogg;
mod opus;
mod webm;

pub use ogg::OGG_OPUS_MIME;
pub use opus::packet_samples;
pub use webm::{demux_opus, OpusTrack};

use thiserror::Error;

/// Why a recording could not be remuxed. The app then uploads the WebM as it is and says so.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RemuxError {
    #[error("the recording is not a WebM file")]
    NotWebm,
    #[error("the recording has no audio track")]
    NoAudioTrack,
    #[error("the recording's audio is {0}, not Opus")]
    NotOpus(String),
    #[error("the recording is damaged at byte {0}")]
    Malformed(usize),
    #[error("the recording has no audio in it")]
    Empty,
}

/// A voice note as OGG/Opus, ready to upload as `audio/ogg; codecs=opus`.
#[derive(Debug, Clone, PartialEq)]
pub struct OggOpus {
    pub bytes: Vec<u8>,
    /// Playable length (pre-skip removed), in milliseconds.
    pub duration_ms: u64,
    pub channels: u8,
    pub packets: usize,
}

/// Remux a WebM/Opus recording into OGG/Opus, keeping every Opus packet as it is.
pub fn webm_to_ogg(webm: &[u8]) -> Result<OggOpus, RemuxError> {
    let track = demux_opus(webm)?;
    if track.packets.is_empty() {
        return Err(RemuxError::Empty);
    }
    Ok(ogg::write_ogg_opus(&track))
}

/// The container a voice note is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// OGG/Opus: what WhatsApp and Telegram accept.
    Ogg,
    /// The browser's WebM, kept because the remux could not apply.
    Webm,
    /// Something else the browser recorded (Safari's MP4/AAC), sent as it is.
    Other,
}

/// A recording made ready to upload: OGG/Opus whenever possible, else the recording as it
/// is, with the reason it was kept (for the agent to be told which was sent).
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceNote {
    pub bytes: Vec<u8>,
    /// The upload's Content-Type: `audio/ogg; codecs=opus` after a remux.
    pub mime: String,
    /// The file name's extension, without the dot.
    pub extension: &'static str,
    pub container: Container,
    /// The playable length when the container tells it (OGG: from the packets).
    pub duration_ms: Option<u64>,
    /// Why the recording was not remuxed, when it could have been (WebM kept).
    pub kept_because: Option<RemuxError>,
}

impl VoiceNote {
    /// `recorded` as the browser's MediaRecorder made it, `recorded_mime` its `Blob.type`
    /// (`audio/webm;codecs=opus` in Chromium, `audio/ogg;codecs=opus` in Firefox,
    /// `audio/mp4` in Safari). WebM is remuxed; OGG and the rest go as they are.
    pub fn from_recording(recorded: Vec<u8>, recorded_mime: &str) -> VoiceNote {
        let base = recorded_mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "audio/webm" | "video/webm" | "" => match webm_to_ogg(&recorded) {
                Ok(ogg) => VoiceNote {
                    bytes: ogg.bytes,
                    mime: OGG_OPUS_MIME.to_owned(),
                    extension: "ogg",
                    container: Container::Ogg,
                    duration_ms: Some(ogg.duration_ms),
                    kept_because: None,
                },
                Err(why) => VoiceNote {
                    bytes: recorded,
                    mime: "audio/webm".to_owned(),
                    extension: "webm",
                    container: Container::Webm,
                    duration_ms: None,
                    kept_because: Some(why),
                },
            },
            "audio/ogg" => VoiceNote {
                bytes: recorded,
                mime: OGG_OPUS_MIME.to_owned(),
                extension: "ogg",
                container: Container::Ogg,
                duration_ms: None,
                kept_because: None,
            },
            other => VoiceNote {
                bytes: recorded,
                extension: match other {
                    "audio/mp4" | "audio/aac" => "m4a",
                    "audio/mpeg" => "mp3",
                    "audio/wav" | "audio/wave" => "wav",
                    _ => "audio",
                },
                mime: other.to_owned(),
                container: Container::Other,
                duration_ms: None,
                kept_because: None,
            },
        }
    }
}
