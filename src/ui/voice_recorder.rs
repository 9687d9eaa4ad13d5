//! The voice recorder in the composer: the microphone button, and above the reply box the
//! recorder's panel: waiting for the permission, recording (timer, level meter, Cancel,
//! Stop, a warning before the limit), finishing, the preview (listen, Discard, Send), and
//! when the microphone cannot be used, what happened and how to fix it.

use leptos::html::Button;
use leptos::prelude::*;
use parley_core::voice::{self, Limit, MicError};
use parley_media::Container;

use crate::effects::telemetry::Telemetry;
use crate::state::conversation::ChatState;
use crate::state::voice_note::{Phase, Preview, StoppedBy, VoiceRecorder};

/// The button that starts a recording (in the composer's actions).
#[component]
pub fn MicButton(voice: VoiceRecorder) -> impl IntoView {
    let busy = move || voice.phase.with(|p| *p != Phase::Idle);
    view! {
        <button
            type="button"
            class="parley-button parley-mic"
            data-testid="voice-record"
            aria-label=text::RECORD
            title=text::RECORD
            disabled=busy
            on:click=move |_| voice.start()
        >
            <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                <rect x="5.5" y="1.5" width="5" height="8.5" rx="2.5" fill="none" stroke="currentColor" stroke-width="1.4"/>
                <path d="M3 7.5a5 5 0 0010 0M8 12.5v2.2" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/>
            </svg>
        </button>
    }
}

/// The recorder's panel, above the reply box; empty while idle with nothing to say.
#[component]
pub fn RecorderPanel(voice: VoiceRecorder, chat: ChatState) -> impl IntoView {
    let telemetry = Telemetry::from_context();
    let stop_button = NodeRef::<Button>::new();
    let send_button = NodeRef::<Button>::new();

    // Focus follows the recorder: Stop while recording, Send in the preview.
    Effect::new(move |_| match voice.phase.get() {
        Phase::Recording => {
            request_animation_frame(move || {
                if let Some(b) = stop_button.get_untracked() {
                    let _ = b.focus();
                }
            });
        }
        Phase::Preview(_) => {
            request_animation_frame(move || {
                if let Some(b) = send_button.get_untracked() {
                    let _ = b.focus();
                }
            });
        }
        _ => {}
    });

    let limit = Memo::new(move |_| voice::limit(voice.elapsed_ms.get(), voice.max_ms));

    view! {
        <div class="parley-voice" data-testid="voice-panel" data-phase=move || voice.phase.with(phase_name)>
            {move || voice.error.get().map(|e| view! { <MicProblem error=e voice=voice/> })}
            {move || match voice.phase.get() {
                Phase::Idle => ().into_any(),
                Phase::Asking => view! {
                    <div class="parley-voice-row" role="status">
                        <span class="parley-spinner" aria-hidden="true"></span>
                        <span class="parley-voice-text">{text::ASKING}</span>
                        <button type="button" class="parley-button parley-button-quiet" data-testid="voice-cancel"
                            on:click=move |_| voice.cancel()>
                            {text::CANCEL}
                        </button>
                    </div>
                }.into_any(),
                Phase::Recording => view! {
                    <div class="parley-voice-row" class:parley-voice-near=move || matches!(limit.get(), Limit::Near { .. })>
                        <span class="parley-voice-dot" aria-hidden="true"></span>
                        <span class="parley-voice-text">{text::RECORDING}</span>
                        <span class="parley-voice-timer" role="timer" data-testid="voice-timer"
                            aria-label=move || voice::spoken_length(voice.elapsed_ms.get())>
                            {move || voice::clock_label(voice.elapsed_ms.get())}
                        </span>
                        <LevelMeter voice=voice/>
                        <button type="button" class="parley-button parley-button-quiet" data-testid="voice-cancel"
                            on:click=move |_| voice.cancel()>
                            {text::CANCEL}
                        </button>
                        <button type="button" class="parley-button parley-button-primary" data-testid="voice-stop"
                            node_ref=stop_button on:click=move |_| voice.stop()>
                            <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                                <rect x="3.5" y="3.5" width="9" height="9" rx="1.5" fill="currentColor"/>
                            </svg>
                            {text::STOP}
                        </button>
                    </div>
                    <p class="parley-voice-warning" role="status" data-testid="voice-warning"
                        hidden=move || !matches!(limit.get(), Limit::Near { .. })>
                        {move || text::near_limit(voice.max_ms)}
                    </p>
                }.into_any(),
                Phase::Finishing => view! {
                    <div class="parley-voice-row" role="status">
                        <span class="parley-spinner" aria-hidden="true"></span>
                        <span class="parley-voice-text">{text::FINISHING}</span>
                    </div>
                }.into_any(),
                Phase::Preview(preview) => view! {
                    <PreviewRow preview=preview voice=voice chat=chat telemetry=telemetry send_button=send_button/>
                }.into_any(),
            }}
        </div>
    }
}

fn phase_name(p: &Phase) -> &'static str {
    match p {
        Phase::Idle => "idle",
        Phase::Asking => "asking",
        Phase::Recording => "recording",
        Phase::Finishing => "finishing",
        Phase::Preview(_) => "preview",
    }
}

/// The microphone's level as a bar, and as a meter for assistive technology.
#[component]
fn LevelMeter(voice: VoiceRecorder) -> impl IntoView {
    let level = move || voice.level.get().unwrap_or(0);
    view! {
        <span
            class="parley-voice-meter"
            role="meter"
            aria-label=text::LEVEL
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=move || level().to_string()
            data-testid="voice-level"
            hidden=move || voice.level.with(Option::is_none)
        >
            <span class="parley-voice-meter-fill" style:width=move || format!("{}%", level())></span>
        </span>
    }
}

#[component]
fn PreviewRow(
    preview: Preview,
    voice: VoiceRecorder,
    chat: ChatState,
    telemetry: Option<Telemetry>,
    send_button: NodeRef<Button>,
) -> impl IntoView {
    let format = text::format(preview.container);
    let kept = preview
        .kept_because
        .as_ref()
        .map(|why| text::kept_webm(&why.to_string()));
    let stopped = preview.stopped_by.as_ref().map(|s| match s {
        StoppedBy::Limit => text::limit_reached(voice.max_ms),
        StoppedBy::Interrupted(e) => text::interrupted(e),
    });
    view! {
        {stopped.map(|s| view! { <p class="parley-voice-notice" role="status" data-testid="voice-stopped">{s}</p> })}
        <div class="parley-voice-row parley-voice-preview">
            <audio class="parley-audio" src=preview.url.clone() controls preload="metadata" data-testid="voice-preview"></audio>
            <span class="parley-voice-meta" data-testid="voice-meta">
                {voice::clock_label(preview.duration_ms)} " · " {format}
            </span>
            <button type="button" class="parley-button parley-button-quiet" data-testid="voice-discard"
                on:click=move |_| voice.discard()>
                {text::DISCARD}
            </button>
            <button type="button" class="parley-button parley-button-primary" data-testid="voice-send"
                node_ref=send_button on:click=move |_| voice.send(chat, telemetry)>
                <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                    <path d="M2 8l11-5-4 11-2-4.5z" fill="currentColor"/>
                </svg>
                {text::SEND}
            </button>
        </div>
        {kept.map(|k| view! { <p class="parley-voice-notice" data-testid="voice-kept">{k}</p> })}
        <p class="parley-form-error" role="alert" data-testid="voice-send-error" hidden=move || voice.send_error.with(Option::is_none)>
            {move || voice.send_error.get().unwrap_or_default()}
        </p>
    }
}

/// What went wrong with the microphone and how to fix it; the composer works on.
#[component]
fn MicProblem(error: MicError, voice: VoiceRecorder) -> impl IntoView {
    let (what, fix) = text::problem(&error);
    view! {
        <div class="parley-voice-problem" role="alert" data-testid="voice-error">
            <p class="parley-voice-problem-what">{what}</p>
            <p class="parley-voice-problem-fix">{fix}</p>
            <div class="parley-voice-problem-actions">
                <button type="button" class="parley-button" data-testid="voice-retry" on:click=move |_| {
                    voice.dismiss_error();
                    voice.start();
                }>
                    {text::TRY_AGAIN}
                </button>
                <button type="button" class="parley-button parley-button-quiet" data-testid="voice-dismiss"
                    on:click=move |_| voice.dismiss_error()>
                    {text::DISMISS}
                </button>
            </div>
        </div>
    }
}

/// The recorder's words, in one place.
mod text {
    use super::*;

    pub const RECORD: &str = "Record a voice note";
    pub const ASKING: &str = "Waiting for access to the microphone… (your browser may be asking)";
    pub const RECORDING: &str = "Recording";
    pub const LEVEL: &str = "Microphone level";
    pub const CANCEL: &str = "Cancel";
    pub const STOP: &str = "Stop";
    pub const FINISHING: &str = "Preparing the voice note…";
    pub const DISCARD: &str = "Discard";
    pub const SEND: &str = "Send";
    pub const TRY_AGAIN: &str = "Try again";
    pub const DISMISS: &str = "Dismiss";

    pub fn near_limit(max_ms: u64) -> String {
        format!(
            "Less than {} left: recording stops by itself at {}.",
            voice::spoken_length(voice::warn_window_ms(max_ms)),
            voice::clock_label(max_ms)
        )
    }

    pub fn limit_reached(max_ms: u64) -> String {
        format!(
            "Recording stopped at the {} limit. Listen, then send or discard it.",
            voice::clock_label(max_ms)
        )
    }

    pub fn interrupted(e: &MicError) -> String {
        let why = match e {
            MicError::Lost => {
                "the microphone went away (unplugged, or its permission withdrawn)".to_owned()
            }
            MicError::Recorder(detail) => format!("the recording failed ({detail})"),
            other => problem(other).0.to_owned(),
        };
        format!("Recording stopped: {why}. What was recorded up to then is kept below.")
    }

    pub fn format(container: Container) -> &'static str {
        match container {
            Container::Ogg => "OGG/Opus",
            Container::Webm => "WebM",
            Container::Other => "as recorded",
        }
    }

    pub fn kept_webm(why: &str) -> String {
        format!(
            "This note will be sent as WebM, not OGG: {why}. Some channels (WhatsApp) may not play it."
        )
    }

    /// (what happened, how to fix it)
    pub fn problem(e: &MicError) -> (&'static str, String) {
        match e {
            MicError::Denied => (
                "Parley can't use your microphone: access was denied.",
                "To allow it, click the icon at the left of the address bar (the lock or the site settings), set Microphone to Allow, then press Try again. If your organisation manages this browser, its policy may block the microphone.".into(),
            ),
            MicError::BlockedByPage => (
                "The page Parley is embedded in does not allow the microphone.",
                "Open Parley in its own tab, or ask the page's owner to allow it (the frame needs allow=\"microphone\").".into(),
            ),
            MicError::NoMicrophone => (
                "No microphone was found.",
                "Connect a microphone or a headset, check it is turned on in your system's sound settings, then press Try again.".into(),
            ),
            MicError::Busy => (
                "The microphone could not be started.",
                "Another app or tab may be using it (a call, a recorder): close it, or check your system's privacy settings allow this browser to use the microphone, then press Try again.".into(),
            ),
            MicError::InsecureContext => (
                "Recording needs a secure connection.",
                "Browsers only give the microphone to pages served over https://. Open Parley at an https:// address.".into(),
            ),
            MicError::Unsupported => (
                "This browser can't record audio.",
                "Use a current version of Chrome, Edge, Firefox or Safari.".into(),
            ),
            MicError::Lost => (
                "The microphone went away.",
                "Check it is connected, then press Try again.".into(),
            ),
            MicError::Recorder(detail) => (
                "The recording failed.",
                format!("The browser said: {detail}. Press Try again; if it keeps failing, reload the page."),
            ),
        }
    }
}
