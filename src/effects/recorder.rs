//! The microphone and the MediaRecorder: ask for the microphone, record it, measure its
//! level for the meter, and stop (keeping the recording) or cancel (dropping it). Whatever
//! happens, the microphone is released: stopping, cancelling, a failure, or the recording
//! being dropped (the composer unmounted, the page left) all stop its tracks, so the
//! browser's "recording" indicator never stays on.
//!
//! What a failure means for the agent is decided in the core
//! ([`parley_core::voice::MicError`]); this file only reads the browser's answers.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Promise, Reflect};
use parley_core::voice::{MicError, RecorderFailure};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AnalyserNode, AudioContext, Blob, BlobEvent, BlobPropertyBag, MediaRecorder,
    MediaRecorderOptions, MediaStream, MediaStreamConstraints, MediaStreamTrack, RecordingState,
};

/// The containers asked for, best first: Chromium records WebM/Opus (remuxed to OGG before
/// sending), Firefox OGG/Opus, Safari MP4/AAC.
const PREFERRED_TYPES: &[&str] = &[
    "audio/webm;codecs=opus",
    "audio/ogg;codecs=opus",
    "audio/webm",
    "audio/mp4",
];

/// Opus carries speech well at this rate; the browser's default (~128 kbit/s) would make
/// a 15-minute note four times larger for nothing the ear can tell.
const AUDIO_BITS_PER_SECOND: u32 = 32_000;

/// A chunk of the recording every second, so a long recording is not one huge buffer
/// handed over at the end.
const TIMESLICE_MS: i32 = 1_000;

/// How long the recorder may take to hand over its last chunk after `stop()`.
const STOP_TIMEOUT_MS: i32 = 5_000;

/// Samples the meter reads per update (at 48 kHz, ~21 ms).
const METER_WINDOW: u32 = 1_024;

/// A recording in progress. Dropping it cancels it and releases the microphone.
pub struct Recording {
    stream: MediaStream,
    recorder: MediaRecorder,
    chunks: Rc<RefCell<Vec<Blob>>>,
    meter: Option<(AudioContext, AnalyserNode)>,
    samples: RefCell<Vec<f32>>,
    started_at: f64,
    /// The type asked for (the recorder's own `mimeType` wins once it has one).
    asked_type: String,
    /// Settles when the recorder fires `stop` (after its last `dataavailable`), however
    /// it stopped: asked to, or by itself when the microphone went away.
    stopped: Promise,
    _on_data: Closure<dyn FnMut(BlobEvent)>,
    _on_interrupted: Closure<dyn FnMut(web_sys::Event)>,
}

/// A finished recording, as the browser made it.
pub struct Recorded {
    pub blob: Blob,
    /// `Blob.type`: `audio/webm;codecs=opus` in Chromium.
    pub mime: String,
    /// How long the agent recorded, by the clock.
    pub elapsed_ms: u64,
}

/// Whether this page can record at all (a secure context with `getUserMedia` and
/// `MediaRecorder`); the reason when it cannot.
pub fn availability() -> Result<(), MicError> {
    let window = web_sys::window().ok_or(MicError::Unsupported)?;
    if !window.is_secure_context() {
        return Err(MicError::InsecureContext);
    }
    let has = |target: &JsValue, name: &str| {
        Reflect::get(target, &JsValue::from_str(name)).is_ok_and(|v| !v.is_undefined())
    };
    let navigator: JsValue = window.navigator().into();
    let devices =
        Reflect::get(&navigator, &JsValue::from_str("mediaDevices")).unwrap_or(JsValue::UNDEFINED);
    if devices.is_undefined() || !has(&devices, "getUserMedia") || !has(&window, "MediaRecorder") {
        return Err(MicError::Unsupported);
    }
    Ok(())
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn dom_error(e: &JsValue) -> MicError {
    let name = Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let message = Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    // The agent reads what it means in their language; the browser's own words are here.
    if !message.is_empty() {
        leptos::logging::warn!("parley: microphone or recorder: {name}: {message}");
    }
    MicError::from_dom_name(&name)
}

fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Asks for the microphone (the browser may prompt) and starts recording.
/// `on_interrupted` runs if the recording ends by itself: the microphone was unplugged,
/// its permission revoked, or the recorder failed.
pub async fn start(on_interrupted: impl Fn(MicError) + 'static) -> Result<Recording, MicError> {
    availability()?;
    let window = web_sys::window().ok_or(MicError::Unsupported)?;
    let devices = window
        .navigator()
        .media_devices()
        .map_err(|_| MicError::Unsupported)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| dom_error(&e))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| dom_error(&e))?
        .dyn_into()
        .map_err(|_| MicError::Unsupported)?;

    // `Clone::clone`, not `stream.clone()`: web-sys's `MediaStream::clone` is the JS
    // method, which makes a second stream with new tracks (and the first would stay live).
    match Recording::begin(Clone::clone(&stream), on_interrupted) {
        Ok(r) => Ok(r),
        Err(e) => {
            stop_tracks(&stream);
            Err(e)
        }
    }
}

impl Recording {
    fn begin(
        stream: MediaStream,
        on_interrupted: impl Fn(MicError) + 'static,
    ) -> Result<Recording, MicError> {
        let asked_type = PREFERRED_TYPES
            .iter()
            .copied()
            .find(|t| MediaRecorder::is_type_supported(t))
            .unwrap_or("")
            .to_owned();
        let options = MediaRecorderOptions::new();
        if !asked_type.is_empty() {
            options.set_mime_type(&asked_type);
        }
        options.set_audio_bits_per_second(AUDIO_BITS_PER_SECOND);
        let recorder =
            MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)
                .map_err(|e| dom_error(&e))?;

        let chunks = Rc::new(RefCell::new(Vec::new()));
        let on_data = {
            let chunks = chunks.clone();
            Closure::<dyn FnMut(BlobEvent)>::new(move |e: BlobEvent| {
                if let Some(data) = e.data().filter(|d| d.size() > 0.0) {
                    chunks.borrow_mut().push(data);
                }
            })
        };
        recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));

        // The recorder's error, or the microphone's track ending (unplugged, permission
        // revoked): either way the recording cannot go on.
        let on_interrupted = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let why = if e.type_() == "ended" {
                MicError::Lost
            } else {
                let error = Reflect::get(&e, &JsValue::from_str("error")).unwrap_or_default();
                dom_error(&error)
            };
            on_interrupted(why);
        });
        recorder.set_onerror(Some(on_interrupted.as_ref().unchecked_ref()));
        for track in stream.get_audio_tracks().iter() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.set_onended(Some(on_interrupted.as_ref().unchecked_ref()));
            }
        }

        let mut resolve_stopped = None;
        let stopped = Promise::new(&mut |resolve, _| resolve_stopped = Some(resolve));
        if let Some(resolve) = resolve_stopped {
            let on_stop = Closure::once_into_js(move |_: web_sys::Event| {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            });
            recorder.set_onstop(Some(on_stop.unchecked_ref()));
        }

        recorder
            .start_with_time_slice(TIMESLICE_MS)
            .map_err(|e| dom_error(&e))?;

        Ok(Recording {
            meter: level_meter(&stream),
            stream,
            recorder,
            chunks,
            samples: RefCell::new(vec![0.0; METER_WINDOW as usize]),
            started_at: now_ms(),
            asked_type,
            stopped,
            _on_data: on_data,
            _on_interrupted: on_interrupted,
        })
    }

    /// Milliseconds since recording started.
    pub fn elapsed_ms(&self) -> u64 {
        (now_ms() - self.started_at).max(0.0) as u64
    }

    /// The microphone's level now, 0–100 (`None` when the browser gave no audio graph).
    pub fn level(&self) -> Option<u8> {
        let (_, analyser) = self.meter.as_ref()?;
        let mut samples = self.samples.borrow_mut();
        analyser.get_float_time_domain_data(&mut samples);
        Some(parley_core::voice::meter_level(&samples))
    }

    /// Stops recording and hands over what was recorded; the microphone is released.
    pub async fn finish(self) -> Result<Recorded, MicError> {
        let elapsed_ms = self.elapsed_ms();
        if self.recorder.state() != RecordingState::Inactive {
            self.recorder.stop().map_err(|e| dom_error(&e))?;
        }
        // The last chunk arrives (dataavailable) before `stop` fires. A recorder that
        // never fires it must not hold the agent in "finishing" forever.
        let waited = futures::future::select(
            JsFuture::from(self.stopped.clone()),
            JsFuture::from(sleep(STOP_TIMEOUT_MS)),
        )
        .await;
        if matches!(waited, futures::future::Either::Right(_)) {
            return Err(MicError::Recorder(RecorderFailure::DidNotFinish));
        }
        let mime = Some(self.recorder.mime_type())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.asked_type.clone());
        let parts: Array = self.chunks.borrow().iter().collect();
        let options = BlobPropertyBag::new();
        options.set_type(&mime);
        let blob = Blob::new_with_blob_sequence_and_options(&parts, &options)
            .map_err(|e| dom_error(&e))?;
        if blob.size() == 0.0 {
            return Err(MicError::Recorder(RecorderFailure::NothingRecorded));
        }
        // `self` drops here: the tracks stop and the audio graph closes.
        Ok(Recorded {
            mime: blob.type_(),
            blob,
            elapsed_ms,
        })
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.recorder.set_ondataavailable(None);
        self.recorder.set_onerror(None);
        // `onstop` stays: stopping below fires it, which frees its one-shot closure.
        for track in self.stream.get_audio_tracks().iter() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.set_onended(None);
            }
        }
        if self.recorder.state() != RecordingState::Inactive {
            let _ = self.recorder.stop();
        }
        stop_tracks(&self.stream);
        if let Some((context, _)) = self.meter.take() {
            let _ = context.close();
        }
    }
}

/// A promise that settles after `ms`.
fn sleep(ms: i32) -> Promise {
    Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    })
}

/// An analyser on the microphone, for the level meter; not connected to the speakers.
fn level_meter(stream: &MediaStream) -> Option<(AudioContext, AnalyserNode)> {
    let context = AudioContext::new().ok()?;
    let source = context.create_media_stream_source(stream).ok()?;
    let analyser = context.create_analyser().ok()?;
    analyser.set_fft_size(METER_WINDOW);
    source.connect_with_audio_node(&analyser).ok()?;
    // Created after an await, the context may start suspended: the meter would read 0.
    let _ = context.resume();
    Some((context, analyser))
}

/// The bytes of a Blob, into wasm memory (a voice note is small: ~2 MB for 10 minutes).
pub async fn blob_bytes(blob: &Blob) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A Blob of `bytes` with Content-Type `mime`.
pub fn bytes_blob(bytes: &[u8], mime: &str) -> Result<Blob, JsValue> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let parts = Array::of1(&js_sys::Uint8Array::from(bytes));
    Blob::new_with_u8_array_sequence_and_options(&parts, &options)
}

/// An object URL for a Blob (the preview's `<audio src>`), revoked when dropped.
pub struct ObjectUrl(String);

impl ObjectUrl {
    pub fn new(blob: &Blob) -> Option<ObjectUrl> {
        web_sys::Url::create_object_url_with_blob(blob)
            .ok()
            .map(ObjectUrl)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for ObjectUrl {
    fn drop(&mut self) {
        let _ = web_sys::Url::revoke_object_url(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_media::{Container, VoiceNote};
    use wasm_bindgen_test::wasm_bindgen_test;

    const RECORDING: &[u8] =
        include_bytes!("../../crates/media/tests/fixtures/chromium-fake-mic-3s.webm");

    #[wasm_bindgen_test]
    async fn a_recording_blob_is_read_remuxed_and_typed_as_ogg_opus() {
        let recorded = bytes_blob(RECORDING, "audio/webm;codecs=opus").unwrap();
        assert_eq!(recorded.type_(), "audio/webm;codecs=opus");
        let bytes = blob_bytes(&recorded).await.unwrap();
        assert_eq!(bytes, RECORDING);
        let note = VoiceNote::from_recording(bytes, &recorded.type_());
        assert_eq!(note.container, Container::Ogg);
        let ogg = bytes_blob(&note.bytes, &note.mime).unwrap();
        assert_eq!(ogg.type_(), "audio/ogg; codecs=opus");
        assert_eq!(ogg.size() as usize, note.bytes.len());
    }

    #[wasm_bindgen_test]
    async fn an_object_url_serves_the_blob_until_it_is_dropped() {
        let blob = bytes_blob(b"OggS....", "audio/ogg").unwrap();
        let url = ObjectUrl::new(&blob).unwrap();
        let href = url.as_str().to_owned();
        assert!(href.starts_with("blob:"));
        let window = web_sys::window().unwrap();
        let fetched = JsFuture::from(window.fetch_with_str(&href)).await;
        assert!(fetched.is_ok(), "the URL serves the blob while it lives");
        drop(url);
        let revoked = JsFuture::from(window.fetch_with_str(&href)).await;
        assert!(revoked.is_err(), "a revoked URL no longer serves it");
    }

    /// The runner's Chromium has a fake microphone that it grants without a prompt
    /// (`webdriver.json`: `--use-fake-device-for-media-stream`, `--use-fake-ui-for-media-stream`),
    /// so the one right outcome is a recording, and a released microphone after it.
    #[wasm_bindgen_test]
    async fn the_fake_microphone_records_webm_opus_and_is_released_after() {
        let recording = start(|e| panic!("interrupted: {e:?}"))
            .await
            .expect("the runner's fake microphone records");
        let stream = Clone::clone(&recording.stream);
        // `readyState` by name: the app needs no web-sys feature for it.
        let live = |s: &MediaStream| {
            s.get_audio_tracks()
                .iter()
                .filter(|t| {
                    Reflect::get(t, &JsValue::from_str("readyState"))
                        .ok()
                        .and_then(|v| v.as_string())
                        .as_deref()
                        == Some("live")
                })
                .count()
        };
        assert_eq!(
            live(&stream),
            1,
            "one live microphone track while recording"
        );
        JsFuture::from(sleep(600)).await.unwrap();
        let recorded = recording.finish().await.expect("a recording");
        assert_eq!(recorded.mime, "audio/webm;codecs=opus");
        assert!(recorded.blob.size() > 0.0);
        assert!(recorded.elapsed_ms >= 600, "{}", recorded.elapsed_ms);
        assert_eq!(live(&stream), 0, "the microphone is released");
        // What was recorded is a WebM/Opus the remuxer takes.
        let bytes = blob_bytes(&recorded.blob).await.unwrap();
        let note = VoiceNote::from_recording(bytes, &recorded.mime);
        assert_eq!(note.container, Container::Ogg, "{:?}", note.kept_because);
    }
}
