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
