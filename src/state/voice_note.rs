//! A voice note from the microphone to the outbox: idle → asking for the microphone →
//! recording (timer, level, the limit) → finishing (the last chunk, the remux) → preview
//! (listen, then Send or Discard) → sent through [`send_files`] like any file.
//!
//! What was recorded is never lost by accident: the limit, or the microphone going away,
//! ends in the preview with what was recorded, never in nothing. Only Cancel and Discard,
//! the agent's own choices, drop a recording.

use leptos::prelude::*;
use parley_core::telemetry::TelemetryEvent;
use parley_core::voice::{self, Limit, MicError, RecorderFailure};
use parley_media::{Container, RemuxError, VoiceNote};

use crate::effects::clock::{now_ms, Interval};
use crate::effects::recorder::{self, blob_bytes, bytes_blob, ObjectUrl, Recording};
use crate::effects::telemetry::Telemetry;
use crate::state::attaching::{send_files, OutgoingFile};
use crate::state::conversation::ChatState;

/// How often the timer and the meter are read.
const TICK_MS: u64 = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Idle,
    /// Waiting for the browser's microphone permission (it may be prompting).
    Asking,
    Recording,
    /// Stopped: collecting the last chunk and remuxing.
    Finishing,
    Preview(Preview),
}

/// What the preview shows about the note about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// An object URL of the very file that will be sent.
    pub url: String,
    pub duration_ms: u64,
    pub container: Container,
    /// The WebM was kept: why the remux could not apply.
    pub kept_because: Option<RemuxError>,
    /// Why recording stopped, when the agent did not stop it.
    pub stopped_by: Option<StoppedBy>,
}

/// Recording ended without the agent pressing Stop.
#[derive(Debug, Clone, PartialEq)]
pub enum StoppedBy {
    /// The length limit was reached.
    Limit,
    /// The microphone went away or the recorder failed; what was recorded is kept.
    Interrupted(MicError),
}

/// The finished note, held between the preview and Send.
struct ReadyNote {
    blob: web_sys::Blob,
    name: String,
    mime: String,
    duration_ms: u64,
    _url: ObjectUrl,
}

/// The voice recorder of one composer.
#[derive(Debug, Clone, Copy)]
pub struct VoiceRecorder {
    pub phase: RwSignal<Phase>,
    /// Milliseconds recorded so far.
    pub elapsed_ms: RwSignal<u64>,
    /// The microphone level, 0–100; `None` when the browser gives no audio graph.
    pub level: RwSignal<Option<u8>>,
    /// Why the microphone could not be used (shown with how to fix it) or why the
    /// recording failed.
    pub error: RwSignal<Option<MicError>>,
    /// Why the note could not be sent (the preview stays, so nothing is lost).
    pub send_error: RwSignal<Option<String>>,
    /// The longest note, in milliseconds.
    pub max_ms: u64,
    /// The composer's owner: the pending row `send_files` makes must outlive the preview
    /// whose button sent it (a row's signal belongs to the owner current when it is made).
    owner: StoredValue<Owner>,
    recording: StoredValue<Option<Recording>, LocalStorage>,
    ticker: StoredValue<Option<Interval>, LocalStorage>,
    note: StoredValue<Option<ReadyNote>, LocalStorage>,
}

impl VoiceRecorder {
    pub fn new(max_ms: u64) -> VoiceRecorder {
        VoiceRecorder {
            phase: RwSignal::new(Phase::Idle),
            elapsed_ms: RwSignal::new(0),
            level: RwSignal::new(None),
            error: RwSignal::new(None),
            send_error: RwSignal::new(None),
            max_ms,
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
            recording: StoredValue::new_local(None),
            ticker: StoredValue::new_local(None),
            note: StoredValue::new_local(None),
        }
    }

    /// Whether the recorder is gone (its component unmounted while a browser call ran).
    fn gone(&self) -> bool {
        self.phase.try_get_untracked().is_none()
    }

    /// Asks for the microphone and starts recording.
    pub fn start(self) {
        if self.phase.get_untracked() != Phase::Idle {
            return;
        }
        self.error.set(None);
        self.send_error.set(None);
        self.elapsed_ms.set(0);
        self.level.set(None);
        self.phase.set(Phase::Asking);
        leptos::task::spawn_local(async move {
            let started = recorder::start(move |why| self.interrupted(why)).await;
            if self.gone() {
                return; // Dropping `started` releases the microphone.
            }
            match started {
                // Cancelled while the browser was asking: release it at once.
                Ok(_) if self.phase.get_untracked() != Phase::Asking => {}
                Ok(recording) => {
                    self.recording.set_value(Some(recording));
                    self.phase.set(Phase::Recording);
                    self.ticker
                        .set_value(Some(Interval::every(TICK_MS, move || self.tick())));
                }
                Err(e) => {
                    self.error.set(Some(e));
                    self.phase.set(Phase::Idle);
                }
            }
        });
    }

    fn tick(self) {
        let Some(Some((elapsed, level))) = self
            .recording
            .try_with_value(|r| r.as_ref().map(|r| (r.elapsed_ms(), r.level())))
        else {
            return;
        };
        self.elapsed_ms.set(elapsed);
        if self.level.get_untracked() != level {
            self.level.set(level);
        }
        if voice::limit(elapsed, self.max_ms) == Limit::Reached {
            self.finish(Some(StoppedBy::Limit));
        }
    }

    fn interrupted(self, why: MicError) {
        if self.gone() || self.phase.get_untracked() != Phase::Recording {
            return;
        }
        self.finish(Some(StoppedBy::Interrupted(why)));
    }

    /// Stop: the recording goes to the preview.
    pub fn stop(self) {
        self.finish(None);
    }

    fn finish(self, stopped_by: Option<StoppedBy>) {
        let Some(recording) = self.recording.try_update_value(Option::take).flatten() else {
            return;
        };
        self.ticker.set_value(None);
        self.phase.set(Phase::Finishing);
        leptos::task::spawn_local(async move {
            let made = prepare(recording).await;
            if self.gone() {
                return;
            }
            match made {
                Ok((note, preview)) => {
                    self.note.set_value(Some(note));
                    self.phase.set(Phase::Preview(Preview {
                        stopped_by,
                        ..preview
                    }));
                }
                Err(e) => {
                    self.error.set(Some(e));
                    self.phase.set(Phase::Idle);
                }
            }
        });
    }

    /// Cancel a recording (or the permission request): nothing is kept.
    pub fn cancel(self) {
        self.ticker.set_value(None);
        // Dropping the recording stops the recorder and releases the microphone.
        self.recording.set_value(None);
        if matches!(self.phase.get_untracked(), Phase::Asking | Phase::Recording) {
            self.phase.set(Phase::Idle);
        }
    }

    /// Drop the previewed note.
    pub fn discard(self) {
        self.note.set_value(None);
        self.send_error.set(None);
        self.phase.set(Phase::Idle);
    }

    /// Send the previewed note through the outbox; on a refusal the preview stays.
    pub fn send(self, chat: ChatState, telemetry: Option<Telemetry>) {
        let Some(note) = self.note.try_update_value(Option::take).flatten() else {
            return;
        };
        let file = OutgoingFile {
            blob: note.blob.clone(),
            name: note.name.clone(),
            mime: note.mime.clone(),
        };
        let sent = self
            .owner
            .with_value(|owner| owner.with(|| send_files(chat, vec![file], String::new())));
        match sent {
            Ok(()) => {
                if let Some(t) = telemetry {
                    t.emit(&TelemetryEvent::VoiceMessageSent {
                        conversation_id: chat.conversation_id,
                        duration_s: (note.duration_ms as f64 / 100.0).round() / 10.0,
                    });
                }
                self.send_error.set(None);
                self.phase.set(Phase::Idle);
            }
            Err(e) => {
                self.send_error.set(Some(e.to_string()));
                self.note.set_value(Some(note));
            }
        }
    }

    /// Forget the error shown.
    pub fn dismiss_error(self) {
        self.error.set(None);
    }
}

/// The recording, stopped, read, remuxed to OGG/Opus when it can be, and ready to preview.
async fn prepare(recording: Recording) -> Result<(ReadyNote, Preview), MicError> {
    let recorded = recording.finish().await?;
    let bytes = blob_bytes(&recorded.blob).await.map_err(|e| {
        leptos::logging::warn!("parley: the recording could not be read: {e}");
        MicError::Recorder(RecorderFailure::Unreadable)
    })?;
    let note = VoiceNote::from_recording(bytes, &recorded.mime);
    let blob = match note.container {
        // Remuxed: new bytes, a new Blob. Kept: the recording's own Blob, no copy.
        Container::Ogg
            if note.kept_because.is_none() && !recorded.mime.starts_with("audio/ogg") =>
        {
            bytes_blob(&note.bytes, &note.mime)
                .map_err(|_| MicError::Recorder(RecorderFailure::NotPrepared))?
        }
        _ => recorded.blob,
    };
    let url = ObjectUrl::new(&blob).ok_or(MicError::Recorder(RecorderFailure::NotPrepared))?;
    let duration_ms = note.duration_ms.unwrap_or(recorded.elapsed_ms);
    let preview = Preview {
        url: url.as_str().to_owned(),
        duration_ms,
        container: note.container,
        kept_because: note.kept_because.clone(),
        stopped_by: None,
    };
    let ready = ReadyNote {
        blob,
        name: voice::file_name(now_ms(), note.extension),
        mime: note.mime,
        duration_ms,
        _url: url,
    };
    Ok((ready, preview))
}
