//! Which container a recording is sent in: Chromium's WebM becomes OGG/Opus; what cannot be
//! remuxed is kept as it is, with the reason, so the app can tell the agent which was sent.

use std::path::Path;

use parley_media::{webm_to_ogg, Container, RemuxError, VoiceNote, OGG_OPUS_MIME};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn chromium_webm_is_sent_as_ogg_opus_with_its_length() {
    let webm = fixture("chromium-fake-mic-8s.webm");
    let note = VoiceNote::from_recording(webm.clone(), "audio/webm;codecs=opus");
    assert_eq!(note.container, Container::Ogg);
    assert_eq!(note.mime, OGG_OPUS_MIME);
    assert_eq!(note.extension, "ogg");
    assert_eq!(note.kept_because, None);
    assert!(note.bytes.starts_with(b"OggS"));
    // The very bytes of the remux (checked packet by packet and by real decoders in
    // remux.rs), not another encoding.
    assert_eq!(note.bytes, webm_to_ogg(&webm).unwrap().bytes);
    let ms = note.duration_ms.unwrap();
    assert!(
        (7_400..=8_600).contains(&ms),
        "{ms} ms for an 8 s recording"
    );
}

#[test]
fn a_blob_without_a_type_is_tried_as_webm() {
    let note = VoiceNote::from_recording(fixture("chromium-fake-mic-3s.webm"), "");
    assert_eq!(note.container, Container::Ogg);
}

#[test]
fn a_webm_that_cannot_be_remuxed_is_kept_with_the_reason() {
    let mut vorbis = fixture("chromium-fake-mic-3s.webm");
    let at = vorbis.windows(6).position(|w| w == b"A_OPUS").unwrap();
    vorbis[at..at + 6].copy_from_slice(b"A_VORB");
    let note = VoiceNote::from_recording(vorbis.clone(), "audio/webm;codecs=vorbis");
    assert_eq!(note.container, Container::Webm);
    assert_eq!(note.mime, "audio/webm");
    assert_eq!(note.extension, "webm");
    assert_eq!(
        note.kept_because,
        Some(RemuxError::NotOpus("A_VORB".into()))
    );
    assert_eq!(note.bytes, vorbis, "the recording itself, untouched");
    assert_eq!(note.duration_ms, None);

    let empty = VoiceNote::from_recording(b"not a webm at all".to_vec(), "audio/webm");
    assert_eq!(empty.container, Container::Webm);
    assert_eq!(empty.kept_because, Some(RemuxError::NotWebm));
}

#[test]
fn ogg_and_other_recordings_go_as_they_are() {
    let ogg = webm_to_ogg(&fixture("chromium-fake-mic-3s.webm"))
        .unwrap()
        .bytes;
    let firefox = VoiceNote::from_recording(ogg.clone(), "audio/ogg; codecs=opus");
    assert_eq!(firefox.container, Container::Ogg);
    assert_eq!(firefox.mime, OGG_OPUS_MIME);
    assert_eq!(firefox.bytes, ogg);
    assert_eq!(firefox.kept_because, None);

    let safari = VoiceNote::from_recording(b"....ftypM4A ".to_vec(), "audio/mp4");
    assert_eq!(safari.container, Container::Other);
    assert_eq!(safari.mime, "audio/mp4");
    assert_eq!(safari.extension, "m4a");
    assert_eq!(safari.kept_because, None);
}
