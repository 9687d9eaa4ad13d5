//! The reply box: Enter sends, Shift+Enter adds a line, nothing empty or over the limit
//! goes out, and the text stays until it has become a pending row.

use leptos::html::Textarea;
use leptos::prelude::*;

use crate::state::conversation::ChatState;
use crate::state::sending::{char_count, validate, ComposeError, MAX_CONTENT_CHARS};

/// Show the counter once the text is this close to the limit.
const COUNTER_FROM: usize = MAX_CONTENT_CHARS - 10_000;

#[component]
pub fn Composer(chat: ChatState) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<Textarea>::new();
    let count = Memo::new(move |_| text.with(|t| char_count(t)));
    let over_limit = Memo::new(move |_| count.get() > MAX_CONTENT_CHARS);
    let can_send = Memo::new(move |_| text.with(|t| validate(t).is_ok()));

    // The limit is explained as soon as it is crossed, not when Enter is pressed.
    Effect::new(move |_| {
        if over_limit.get() {
            error.set(Some(
                ComposeError::TooLong {
                    over: count.get() - MAX_CONTENT_CHARS,
                }
                .to_string(),
            ));
        } else if error.with_untracked(|e| e.as_deref().is_some_and(|e| e.contains("limit"))) {
            error.set(None);
        }
    });

    let send = move || {
        let content = text.get_untracked();
        match validate(&content) {
            // Whitespace only: nothing to say, and nothing to complain about either.
            Err(ComposeError::Empty) => {}
            Err(e) => error.set(Some(e.to_string())),
            Ok(()) => match chat.send_text(content) {
                Ok(_) => {
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
        // Enter while an IME composes a character confirms the character, not the message.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };

    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        chat.typing_input();
    };

    let set_mode = move |private: bool| {
        if chat.private_mode.get_untracked() != private {
            // A burst of typing belongs to one mode: end it before switching.
            chat.typing_stop();
            chat.private_mode.set(private);
        }
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    let private = move || chat.private_mode.get();

    view! {
        <form
            class="parley-composer"
            class:parley-composer-private=private
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <div class="parley-composer-modes" role="group" aria-label="Write">
                <button
                    type="button"
                    class="parley-mode"
                    data-testid="mode-reply"
                    aria-pressed=move || (!private()).to_string()
                    on:click=move |_| set_mode(false)
                >
                    "Reply"
                </button>
                <button
                    type="button"
                    class="parley-mode parley-mode-private"
                    data-testid="mode-private"
                    aria-pressed=move || private().to_string()
                    on:click=move |_| set_mode(true)
                >
                    "Private note"
                </button>
            </div>
            <div class="parley-composer-box" class:parley-composer-over=move || over_limit.get()>
                <textarea
                    data-testid="composer-input"
                    class="parley-composer-input"
                    rows="1"
                    placeholder=move || if private() {
                        "Private note, only agents see it… (Enter to send)"
                    } else {
                        "Reply… (Enter to send, Shift+Enter for a new line)"
                    }
                    aria-label=move || if private() { "Private note" } else { "Message" }
                    aria-describedby="parley-composer-error"
                    node_ref=input
                    prop:value=move || text.get()
                    on:input=on_input
                    on:keydown=on_keydown
                    on:blur=move |_| chat.typing_stop()
                ></textarea>
                <div class="parley-composer-actions">
                    <span
                        class="parley-counter"
                        class:parley-counter-over=move || over_limit.get()
                        hidden=move || count.get() < COUNTER_FROM
                    >
                        {move || format!("{} / {}", group(count.get()), group(MAX_CONTENT_CHARS))}
                    </span>
                    <button
                        type="submit"
                        class="parley-button parley-button-primary parley-send"
                        data-testid="send-button"
                        disabled=move || !can_send.get()
                    >
                        <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                            <path d="M2 8l11-5-4 11-2-4.5z" fill="currentColor"/>
                        </svg>
                        <span>"Send"</span>
                    </button>
                </div>
            </div>
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

/// 150000 → "150,000".
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
