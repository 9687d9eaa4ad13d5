//! The voice recorder in the composer: the microphone button, and above the reply box the
//! recorder's panel: waiting for the permission, recording (timer, level meter, Cancel,
//! Stop, a warning before the limit), finishing, the preview (listen, Discard, Send), and
//! when the microphone cannot be used, what happened and how to fix it.

use leptos::html::Button;
use leptos::prelude::*;
use parley_core::voice::{self, Limit, MicError, RecorderFailure};
use parley_media::{Container, RemuxError};

use crate::effects::telemetry::Telemetry;
use crate::i18n::t;
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
            aria-label=t("voice.record")
            title=t("voice.record")
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
                        <span class="parley-voice-text">{t("voice.asking")}</span>
                        <button type="button" class="parley-button parley-button-quiet" data-testid="voice-cancel"
                            on:click=move |_| voice.cancel()>
                            {t("common.cancel")}
                        </button>
                    </div>
                }.into_any(),
                Phase::Recording => view! {
                    <div class="parley-voice-row" class:parley-voice-near=move || matches!(limit.get(), Limit::Near { .. })>
                        <span class="parley-voice-dot" aria-hidden="true"></span>
                        <span class="parley-voice-text">{t("voice.recording")}</span>
                        <span class="parley-voice-timer" role="timer" data-testid="voice-timer"
                            aria-label=move || text::spoken_length(voice.elapsed_ms.get())>
                            {move || voice::clock_label(voice.elapsed_ms.get())}
                        </span>
                        <LevelMeter voice=voice/>
                        <button type="button" class="parley-button parley-button-quiet" data-testid="voice-cancel"
                            on:click=move |_| voice.cancel()>
                            {t("common.cancel")}
                        </button>
                        <button type="button" class="parley-button parley-button-primary" data-testid="voice-stop"
                            node_ref=stop_button on:click=move |_| voice.stop()>
                            <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                                <rect x="3.5" y="3.5" width="9" height="9" rx="1.5" fill="currentColor"/>
                            </svg>
                            {t("voice.stop")}
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
                        <span class="parley-voice-text">{t("voice.finishing")}</span>
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
            aria-label=t("voice.level")
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
    let kept = preview.kept_because.as_ref().map(text::kept_webm);
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
                {t("voice.discard")}
            </button>
            <button type="button" class="parley-button parley-button-primary" data-testid="voice-send"
                node_ref=send_button on:click=move |_| voice.send(chat, telemetry)>
                <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                    <path d="M2 8l11-5-4 11-2-4.5z" fill="currentColor"/>
                </svg>
                {t("composer.send")}
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
                    {t("common.try_again")}
                </button>
                <button type="button" class="parley-button parley-button-quiet" data-testid="voice-dismiss"
                    on:click=move |_| voice.dismiss_error()>
                    {t("common.dismiss")}
                </button>
            </div>
        </div>
    }
}

/// The recorder's words, in one place.
mod text {
    use super::*;
    use crate::i18n::{t_args, t_count};

    /// A length said in words, in the locale: "4 seconds", "1 minute 5 seconds".
    pub fn spoken_length(ms: u64) -> String {
        let s = (ms / 1000) as usize;
        let (m, s) = (s / 60, s % 60);
        match (m, s) {
            (0, s) => t_count("voice.seconds", s, &[]),
            (m, 0) => t_count("voice.minutes", m, &[]),
            (m, s) => t_args(
                "voice.minutes_seconds",
                &[
                    ("minutes", &t_count("voice.minutes", m, &[])),
                    ("seconds", &t_count("voice.seconds", s, &[])),
                ],
            ),
        }
    }

    pub fn near_limit(max_ms: u64) -> String {
        t_args(
            "voice.near_limit",
            &[
                ("left", &spoken_length(voice::warn_window_ms(max_ms))),
                ("limit", &voice::clock_label(max_ms)),
            ],
        )
    }

    pub fn limit_reached(max_ms: u64) -> String {
        t_args(
            "voice.limit_reached",
            &[("limit", &voice::clock_label(max_ms))],
        )
    }

    pub fn interrupted(e: &MicError) -> String {
        match e {
            MicError::Lost => t("voice.interrupted.lost").to_owned(),
            MicError::Recorder(failure) => t_args(
                "voice.interrupted.failed",
                &[("detail", &recorder_failure(failure))],
            ),
            other => t_args("voice.interrupted.other", &[("why", problem(other).0)]),
        }
    }

    pub fn format(container: Container) -> &'static str {
        match container {
            Container::Ogg => "OGG/Opus",
            Container::Webm => "WebM",
            Container::Other => t("voice.format.as_recorded"),
        }
    }

    /// Why the note goes as WebM, in a sentence that says what that means.
    pub fn kept_webm(why: &RemuxError) -> String {
        let why = match why {
            RemuxError::NotWebm => t("voice.kept.not_webm").to_owned(),
            RemuxError::NoAudioTrack => t("voice.kept.no_audio_track").to_owned(),
            RemuxError::NotOpus(codec) => t_args("voice.kept.not_opus", &[("codec", codec)]),
            RemuxError::Malformed(_) => t("voice.kept.damaged").to_owned(),
            RemuxError::Empty => t("voice.kept.empty").to_owned(),
        };
        t_args("voice.kept_webm", &[("why", &why)])
    }

    fn recorder_failure(failure: &RecorderFailure) -> String {
        let key = match failure {
            RecorderFailure::Browser(name) => {
                return t_args("voice.failure.browser", &[("name", name)])
            }
            RecorderFailure::Stopped => "voice.failure.stopped",
            RecorderFailure::DidNotFinish => "voice.failure.did_not_finish",
            RecorderFailure::NothingRecorded => "voice.failure.nothing_recorded",
            RecorderFailure::Unreadable => "voice.failure.unreadable",
            RecorderFailure::NotPrepared => "voice.failure.not_prepared",
        };
        t(key).to_owned()
    }

    /// (what happened, how to fix it)
    pub fn problem(e: &MicError) -> (&'static str, String) {
        let (what, fix) = match e {
            MicError::Denied => ("voice.denied.what", "voice.denied.fix"),
            MicError::BlockedByPage => ("voice.blocked.what", "voice.blocked.fix"),
            MicError::NoMicrophone => ("voice.no_mic.what", "voice.no_mic.fix"),
            MicError::Busy => ("voice.busy.what", "voice.busy.fix"),
            MicError::InsecureContext => ("voice.insecure.what", "voice.insecure.fix"),
            MicError::Unsupported => ("voice.unsupported.what", "voice.unsupported.fix"),
            MicError::Lost => ("voice.lost.what", "voice.lost.fix"),
            MicError::Recorder(failure) => {
                return (
                    t("voice.failed.what"),
                    t_args(
                        "voice.failed.fix",
                        &[("detail", &recorder_failure(failure))],
                    ),
                )
            }
        };
        (t(what), t(fix).to_owned())
    }
}
