//! The reply box: Enter sends, Shift+Enter adds a line, nothing empty or over the limit
//! goes out, and the text stays until it has become a pending row. Files join by the
//! attach button, a paste, or a drop on the conversation; with files the text is their
//! caption (and may be empty).

use leptos::html::{Input, Textarea};
use leptos::prelude::*;

use crate::effects::storage;
use crate::effects::telemetry::Telemetry;
use crate::i18n::{number, t};
use crate::state::attaching::files_of;
use crate::state::canned::{variables, CannedSearch};
use crate::state::conversation::ChatState;
use crate::state::sending::{char_count, validate, ComposeError, MAX_CONTENT_CHARS};
use crate::state::session::SessionCtx;
use crate::state::voice_note::VoiceRecorder;
use crate::ui::attachment_tray::AttachmentTray;
use crate::ui::canned_picker::{option_id, CannedPicker, LISTBOX_ID};
use crate::ui::format_toolbar::{apply_format, shortcut_of, ComposerPreview, FormatToolbar};
use crate::ui::reply_quote::describe;
use crate::ui::voice_recorder::{MicButton, RecorderPanel};
use parley_core::telemetry::TelemetryEvent;

/// The strings of the attach button, in one place for the message catalogs.
mod attach_text {
    pub fn button() -> &'static str {
        crate::i18n::t("composer.attach")
    }
}

/// Show the counter once the text is this close to the limit.
const COUNTER_FROM: usize = MAX_CONTENT_CHARS - 10_000;

#[component]
pub fn Composer(chat: ChatState) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<Textarea>::new();
    let picker = NodeRef::<Input>::new();
    let has_files = Memo::new(move |_| chat.tray.with(|t| !t.is_empty()));
    let count = Memo::new(move |_| text.with(|t| char_count(t)));
    let over_limit = Memo::new(move |_| count.get() > MAX_CONTENT_CHARS);
    let can_send = Memo::new(move |_| {
        if has_files.get() {
            !over_limit.get()
        } else {
            text.with(|t| validate(t).is_ok())
        }
    });
    let canned = CannedSearch::new();
    let telemetry = Telemetry::from_context();
    // Voice notes, when the config turns them on.
    let voice = use_context::<SessionCtx>()
        .map(|s| s.config())
        .filter(|c| c.features.voice_messages)
        .map(|c| VoiceRecorder::new(c.voice_max_ms()));
    let rich_text = expect_context::<SessionCtx>()
        .config()
        .features
        .rich_text_editor;

    // Replying starts typing: the caret goes to the composer.
    Effect::new(move |_| {
        if chat.replying_to.get().is_some() {
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
            }
        }
    });

    // Drafts: one per conversation and mode, kept on every change, back after a reload.
    let draft_key = move |private: bool| {
        storage::draft_key(
            chat.api().origin(),
            chat.account_id,
            chat.conversation_id,
            private,
        )
    };
    text.set(
        storage::load_draft(&draft_key(chat.private_mode.get_untracked())).unwrap_or_default(),
    );
    Effect::new(move |_| {
        let key = draft_key(chat.private_mode.get());
        text.with(|t| storage::save_draft(&key, t));
    });

    // The `/word` at the caret opens (or narrows, or closes) the picker.
    let check_canned = move || {
        let Some(el) = input.get_untracked() else {
            return;
        };
        let value = el.value();
        let caret = caret_byte(&value, el.selection_start().ok().flatten());
        canned.update(chat, parley_core::canned::trigger(&value, caret));
    };

    // Choosing a response replaces the `/word` with its text, variables filled.
    let choose = Callback::new(move |response: parley_wire::CannedResponse| {
        let Some((slash, _)) = canned.at.get_untracked() else {
            return;
        };
        let Some(el) = input.get_untracked() else {
            return;
        };
        let value = el.value();
        let caret = caret_byte(&value, el.selection_start().ok().flatten());
        let content = parley_core::canned::fill(&response.content, &variables(chat));
        if let Some(t) = telemetry {
            t.emit(&TelemetryEvent::CannedResponseUsed {
                conversation_id: chat.conversation_id,
                canned_response_id: response.id,
                short_code: response.short_code.clone(),
            });
        }
        let (new_text, new_caret) = parley_core::canned::insert(&value, slash, caret, &content);
        canned.close();
        el.set_value(&new_text);
        text.set(new_text.clone());
        let utf16 = new_text[..new_caret].encode_utf16().count() as u32;
        let _ = el.set_selection_range(utf16, utf16);
        let _ = el.focus();
    });

    // The limit is explained as soon as it is crossed, not when Enter is pressed, and the
    // explanation goes when the text is short enough again (other errors stay).
    let limit_error = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        if over_limit.get() {
            let message = ComposeError::TooLong {
                over: count.get() - MAX_CONTENT_CHARS,
            }
            .to_string();
            limit_error.set_value(Some(message.clone()));
            error.set(Some(message));
        } else if let Some(shown) = limit_error.get_value() {
            limit_error.set_value(None);
            if error.with_untracked(|e| e.as_deref() == Some(shown.as_str())) {
                error.set(None);
            }
        }
    });

    let send = move || {
        let content = text.get_untracked();
        if has_files.get_untracked() {
            // The text is the caption; on a refusal nothing is lost: tray and text stay.
            match chat.send_tray(content) {
                Ok(()) => {
                    text.set(String::new());
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
            }
            return;
        }
        match validate(&content) {
            // Whitespace only: nothing to say, and nothing to complain about either.
            Err(ComposeError::Empty) => {}
            Err(e) => error.set(Some(e.to_string())),
            Ok(()) => match chat.send_text(content.clone()) {
                Ok(_) => {
                    if let Some(t) = telemetry {
                        t.emit(&TelemetryEvent::message_sent(
                            chat.conversation_id,
                            chat.private_mode.get_untracked(),
                            &content,
                        ));
                    }
                    text.set(String::new());
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            },
        }
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if canned.is_open() && !ev.is_composing() {
            let has_results = canned.results.with_untracked(|r| !r.is_empty());
            match ev.key().as_str() {
                "ArrowDown" | "ArrowUp" if has_results => {
                    ev.prevent_default();
                    canned.move_active(if ev.key() == "ArrowDown" { 1 } else { -1 });
                    return;
                }
                "Enter" | "Tab" if has_results => {
                    ev.prevent_default();
                    if let Some(r) = canned.highlighted() {
                        choose.run(r);
                    }
                    return;
                }
                "Escape" => {
                    ev.prevent_default();
                    canned.close();
                    return;
                }
                _ => {}
            }
        }
        if let Some(format) = rich_text.then(|| shortcut_of(&ev)).flatten() {
            ev.prevent_default();
            if let Some(el) = input.get_untracked() {
                apply_format(&el, format);
            }
            return;
        }
        if ev.key() == "Escape" && chat.replying_to.get_untracked().is_some() {
            ev.prevent_default();
            chat.replying_to.set(None);
            return;
        }
        // Enter while an IME composes a character confirms the character, not the message.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };

    // Pasting files (a screenshot, files copied in a file manager) attaches them; pasting
    // text stays an ordinary paste.
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        let files = files_of(ev.clipboard_data().and_then(|d| d.files()));
        if !files.is_empty() {
            ev.prevent_default();
            chat.pick_files(files);
        }
    };
    let on_picked = move |_| {
        if let Some(el) = picker.get_untracked() {
            chat.pick_files(files_of(el.files()));
            // The same file can be picked again after it was removed.
            el.set_value("");
        }
    };
    on_cleanup(move || chat.clear_tray());

    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        chat.typing_input();
        check_canned();
    };

    let switch_mode = move |private: bool| {
        if chat.private_mode.get_untracked() != private {
            // A burst of typing belongs to one mode: end it before switching. Each mode
            // has its own draft: the text written so far stays with its mode.
            chat.typing_stop();
            canned.close();
            chat.private_mode.set(private);
            text.set(storage::load_draft(&draft_key(private)).unwrap_or_default());
        }
    };
    let set_mode = move |private: bool| {
        switch_mode(private);
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    let private = move || chat.private_mode.get();

    // Outside the channel's reply window (WhatsApp's 24 hours, `can_reply: false`) a reply
    // would only fail once sent: the composer writes private notes until the window opens
    // again (a reload, or `conversation.updated` on the cable).
    let reply_closed = Memo::new(move |_| {
        chat.conversation
            .with(|c| c.as_ref().is_some_and(|c| !c.can_reply))
    });
    // Whether the closed window, not the agent, chose private notes: only then does the
    // composer go back to replies when the window opens (each mode keeps its own draft).
    let closed_forced_private = StoredValue::new(false);
    Effect::new(move |_| {
        let closed = reply_closed.get();
        let private = chat.private_mode.get_untracked();
        if closed && !private {
            closed_forced_private.set_value(true);
            switch_mode(true);
        } else if !closed && closed_forced_private.get_value() {
            closed_forced_private.set_value(false);
            if private {
                switch_mode(false);
            }
        }
    });

    view! {
        <form
            class="parley-composer"
            class:parley-composer-private=private
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <div class="parley-composer-modes" role="group" aria-label=t("composer.modes")>
                <button
                    type="button"
                    class="parley-mode"
                    data-testid="mode-reply"
                    aria-pressed=move || (!private()).to_string()
                    disabled=move || reply_closed.get()
                    aria-describedby=move || reply_closed.get().then_some("parley-reply-closed")
                    on:click=move |_| set_mode(false)
                >
                    {t("composer.reply")}
                </button>
                <button
                    type="button"
                    class="parley-mode parley-mode-private"
                    data-testid="mode-private"
                    aria-pressed=move || private().to_string()
                    on:click=move |_| set_mode(true)
                >
                    {t("composer.private")}
                </button>
            </div>
            <p id="parley-reply-closed" class="parley-reply-closed" data-testid="reply-window-closed" role="status" hidden=move || !reply_closed.get()>
                {t("composer.reply_window_closed")}
            </p>
            <CannedPicker search=canned on_choose=choose/>
            {move || chat.replying_to.get().map(|id| {
                let (who, text) = describe(chat, id).unwrap_or_else(|| (t("composer.a_message").into(), String::new()));
                // The name is bold inside the sentence, wherever the language puts it.
                let (before, after) = t("composer.replying_to").split_once("{name}").unwrap_or((t("composer.replying_to"), ""));
                view! {
                    <div class="parley-replying" data-testid="replying-to">
                        <span class="parley-replying-label">{before}<strong>{who}</strong>{after}</span>
                        <span class="parley-quote-text" dir="auto">{text}</span>
                        <button type="button" class="parley-link-button" aria-label=t("composer.cancel_reply") data-testid="cancel-reply"
                            on:click=move |_| chat.replying_to.set(None)>
                            "✕"
                        </button>
                    </div>
                }
            })}
            <AttachmentTray chat=chat/>
            {voice.map(|voice| view! { <RecorderPanel voice=voice chat=chat/> })}
            {rich_text.then(|| view! { <FormatToolbar input=input/> })}
            <div class="parley-composer-box" class:parley-composer-over=move || over_limit.get()>
                <textarea
                    id="parley-composer-input"
                    data-testid="composer-input"
                    class="parley-composer-input"
                    rows="1"
                    placeholder=move || if private() {
                        t("composer.placeholder_private")
                    } else {
                        t("composer.placeholder")
                    }
                    aria-label=move || if private() { t("composer.private") } else { t("composer.label") }
                    aria-describedby="parley-composer-error"
                    aria-autocomplete="list"
                    // Only while the list exists: an id that points nowhere is an error.
                    aria-controls=move || canned.at.with(Option::is_some).then_some(LISTBOX_ID)
                    aria-activedescendant=move || {
                        (canned.at.with(Option::is_some) && canned.results.with(|r| !r.is_empty()))
                            .then(|| option_id(canned.active.get()))
                    }
                    node_ref=input
                    prop:value=move || text.get()
                    on:input=on_input
                    on:keydown=on_keydown
                    on:paste=on_paste
                    on:click=move |_| check_canned()
                    on:blur=move |_| {
                        chat.typing_stop();
                        canned.close();
                    }
                ></textarea>
                <div class="parley-composer-actions">
                    <input
                        type="file"
                        multiple
                        hidden
                        accept=parley_core::attachment::picker_accept()
                        data-testid="attach-input"
                        node_ref=picker
                        on:change=on_picked
                    />
                    <button
                        type="button"
                        class="parley-button parley-attach"
                        aria-label=attach_text::button()
                        title=attach_text::button()
                        data-testid="attach-button"
                        on:click=move |_| {
                            if let Some(el) = picker.get_untracked() {
                                el.click();
                            }
                        }
                    >
                        <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                            <path d="M10.5 4.5l-5 5a1.5 1.5 0 002 2l5.5-5.5a3 3 0 00-4-4L3.5 7.5a4.5 4.5 0 006.5 6.5l4-4" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linecap="round" stroke-linejoin="round"/>
                        </svg>
                    </button>
                    {voice.map(|voice| view! { <MicButton voice=voice/> })}
                    <span
                        class="parley-counter"
                        class:parley-counter-over=move || over_limit.get()
                        hidden=move || count.get() < COUNTER_FROM
                    >
                        // Written only once shown: formatting numbers costs a first screen
                        // the creation of an `Intl.NumberFormat`.
                        {move || {
                            let count = count.get();
                            (count >= COUNTER_FROM)
                                .then(|| format!("{} / {}", number(count), number(MAX_CONTENT_CHARS)))
                        }}
                    </span>
                    <button
                        type="submit"
                        class="parley-button parley-button-primary parley-send"
                        data-testid="send-button"
                        disabled=move || !can_send.get()
                    >
                        <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon parley-icon-directional">
                            <path d="M2 8l11-5-4 11-2-4.5z" fill="currentColor"/>
                        </svg>
                        <span>{t("composer.send")}</span>
                    </button>
                </div>
            </div>
            {rich_text.then(|| view! { <ComposerPreview text=text/> })}
            <p
                id="parley-composer-error"
                class="parley-form-error"
                data-testid="composer-error"
                role="alert"
                hidden=move || error.with(Option::is_none)
            >
                {move || error.get().unwrap_or_default()}
            </p>
        </form>
    }
}

/// The caret as a byte offset into `value` (the browser counts UTF-16 units).
fn caret_byte(value: &str, utf16: Option<u32>) -> usize {
    let Some(target) = utf16 else {
        return value.len();
    };
    let mut units = 0u32;
    for (i, c) in value.char_indices() {
        if units >= target {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    value.len()
}
