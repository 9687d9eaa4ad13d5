//! One message row. It reads only its own row signal, so a status change or an edit
//! re-renders this row and nothing else.

use leptos::prelude::*;
use parley_core::store::{Row, SendState};
use parley_wire::{FileType, Message, MessageStatus, MessageType, Sender};

use crate::effects::clock::{iso_datetime, local_datetime_label, local_time_label};
use crate::i18n::{t, t_args, t_count};
use crate::reasons::{attempt_error_text, fail_reason_text};
use crate::state::conversation::ChatState;
use crate::ui::attachment_list::AttachmentList;
use crate::ui::avatar::Avatar;
use crate::ui::message_actions::MessageActions;
use crate::ui::message_editor::{EditTarget, MessageEditor};
use crate::ui::pending_files::{has_files, PendingFiles};
use crate::ui::reply_quote::ReplyQuote;

/// `data-status`: the local send state while the message is ours and unconfirmed, else the
/// server's status.
pub fn status_of(row: &Row) -> &'static str {
    match &row.send {
        Some(SendState::Queued) => "queued",
        Some(SendState::Sending) | Some(SendState::Retrying { .. }) => "sending",
        Some(SendState::Failed { .. }) => "failed",
        Some(SendState::Unknown) => "unknown",
        None => match row.message.status {
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
            MessageStatus::Progress => "sending",
            MessageStatus::Unknown => "sent",
        },
    }
}

fn type_of(row: &Row) -> &'static str {
    match row.message.message_type {
        MessageType::Incoming => "incoming",
        MessageType::Outgoing => "outgoing",
        MessageType::Activity => "activity",
        MessageType::Template => "template",
        // Unknown kinds come from the server side; show them like the agent side's.
        MessageType::Other(_) => "outgoing",
    }
}

/// Why a message failed, for the row: our send error, else the channel's `external_error`.
fn failure_of(row: &Row) -> Option<String> {
    match &row.send {
        Some(SendState::Failed { reason }) => Some(fail_reason_text(reason)),
        Some(SendState::Unknown) => Some(t("outbox.may_not_have_been_sent").to_owned()),
        Some(SendState::Retrying { error }) => {
            let error = match error {
                Some(error) => attempt_error_text(error),
                None => t("outbox.checking").to_owned(),
            };
            Some(t_args("message.retrying", &[("error", &error)]))
        }
        _ if row.message.status == MessageStatus::Failed => Some(
            row.message
                .external_error()
                .unwrap_or_else(|| t("message.channel_failed"))
                .to_owned(),
        ),
        _ => None,
    }
}

/// The label (and its explanation) of a message shown only in part: a placeholder for one
/// that did not read whole, or a content type this client does not know.
fn unsupported_of(m: &Message) -> Option<(&'static str, String)> {
    if m.is_unreadable() {
        Some((
            t("message.unreadable"),
            t("message.unreadable_title").to_owned(),
        ))
    } else if m.has_unknown_content_type() {
        // The type is the sender's text: a bounded excerpt in a title.
        let kind: String = m.content_type.chars().take(40).collect();
        Some((
            t("message.unsupported_type"),
            t_args("message.unsupported_type_title", &[("type", &kind)]),
        ))
    } else {
        None
    }
}

/// `data-sender`: who sent it as Chatwoot says (`none` for automation and system messages).
fn sender_kind(m: &Message) -> &'static str {
    match &m.sender {
        Some(Sender::User(_)) => "user",
        Some(Sender::Contact(_)) => "contact",
        Some(Sender::AgentBot(_)) => "agent_bot",
        Some(Sender::CaptainAssistant(_)) => "captain_assistant",
        Some(Sender::Unknown) => "unknown",
        None => "none",
    }
}

fn sender_name(row: &Row) -> String {
    match row.message.sender.as_ref() {
        Some(sender) => sender
            .display_name()
            .unwrap_or_else(|| t("message.unknown_sender"))
            .to_owned(),
        None if row.message.message_type == MessageType::Incoming => t("message.customer").into(),
        None => t("message.bot").into(),
    }
}

/// The reactions to a message (WhatsApp and Instagram emoji reactions): one chip per
/// emoji with how many, and who in its title.
fn reaction_chips(list: Vec<parley_core::timeline::Reaction>) -> String {
    use parley_core::blocks::escape;
    let mut html = String::new();
    for r in list {
        let n = r.names.len();
        let who = r.names.join(", ");
        let label = escape(&t_count(
            "message.reactions",
            n,
            &[("emoji", &r.emoji), ("names", &who)],
        ));
        html.push_str(&format!(
            "<li class=\"parley-reaction\" title=\"{label}\"><span aria-hidden=\"true\">{} {n}</span><span class=\"parley-visually-hidden\">{label}</span></li>",
            escape(&r.emoji)
        ));
    }
    html
}

/// A shared contact's Copy button (in the blocks' HTML): its `data-copy` to the clipboard.
fn copy_contact(ev: leptos::ev::MouseEvent) {
    use wasm_bindgen::JsCast;
    let Some(button) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.closest("[data-copy]").ok().flatten())
    else {
        return;
    };
    if let Some(text) = button.get_attribute("data-copy") {
        let _promise = window().navigator().clipboard().write_text(&text);
        button.set_text_content(button.get_attribute("data-copied").as_deref());
    }
}

#[component]
pub fn MessageItem(
    row: RwSignal<Row>,
    /// Part of the group of the message above: no name or avatar of its own.
    #[prop(optional)]
    continued: bool,
    on_retry: Callback<String>,
    /// Delete a message that was never sent.
    on_discard: Callback<String>,
    /// The conversation, for the actions on a sent message (delete).
    chat: ChatState,
) -> impl IntoView {
    let kind = Memo::new(move |_| row.with(type_of));
    let status = Memo::new(move |_| row.with(status_of));
    let private = Memo::new(move |_| row.with(|r| r.message.private));
    let deleted = Memo::new(move |_| row.with(|r| r.message.is_deleted()));
    // Rendering markdown is the costly part: only when the text changes.
    let html = Memo::new(move |_| {
        row.with(|r| parley_core::markdown::render(r.message.content.as_deref().unwrap_or("")))
    });
    let id = Memo::new(move |_| row.with(|r| (r.message.id > 0).then(|| r.message.id.to_string())));
    let echo_id = Memo::new(move |_| row.with(|r| r.message.echo_id.clone()));
    let failure = Memo::new(move |_| row.with(failure_of));
    let created_at = Memo::new(move |_| row.with(|r| r.message.created_at));
    let name = Memo::new(move |_| row.with(sender_name));
    let avatar = Memo::new(move |_| {
        row.with(|r| {
            r.message
                .sender
                .as_ref()
                .and_then(Sender::avatar)
                .map(str::to_owned)
        })
    });
    let sender = Memo::new(move |_| row.with(|r| sender_kind(&r.message)));
    // What the content type and the place-like attachments add to the text (one HTML
    // string, escaped in the core); a shared contact's name is the text itself.
    let lang = crate::i18n::locale().lang;
    let blocks = Memo::new(move |_| row.with(|r| parley_core::blocks::html(&r.message, lang)));
    let text_in_card = Memo::new(move |_| {
        row.with(|r| {
            r.message
                .attachments()
                .iter()
                .any(|a| a.file_type == FileType::Contact)
        })
    });
    let editing = RwSignal::new(false);
    // "edited", with what it said before, from parley-server's edit extension.
    let edited = Memo::new(move |_| {
        row.with(|r| {
            let edited = r.message.content_attributes.get("edited")?;
            // `previous` lists the earlier versions, oldest first: `{content, at}`.
            let before = edited
                .get("previous")
                .and_then(|p| p.as_array()?.last()?.get("content")?.as_str());
            Some(before.map_or_else(
                || t("message.edited_title").to_owned(),
                |p| t_args("message.edited_before", &[("text", p)]),
            ))
        })
    });
    // A message this client cannot show whole says so, beside whatever text it has:
    // (label, why).
    let unsupported = Memo::new(move |_| row.with(|r| unsupported_of(&r.message)));
    let reply_to = Memo::new(move |_| {
        row.with(|r| r.message.in_reply_to().filter(|_| !r.message.is_deleted()))
    });
    let attachments = Memo::new(move |_| {
        row.with(|r| {
            let list = r.message.attachments();
            (!list.is_empty()).then(|| list.to_vec())
        })
    });
    // A message with files still being sent shows them with their upload.
    let send = Signal::derive(move || row.with(|r| r.send.clone()));
    let pending_files = Memo::new(move |_| {
        row.with(|r| r.send.as_ref().and(r.message.echo_id.clone()))
            .filter(|e| chat.uploads.with(|m| has_files(m.get(e))))
    });
    let retryable = Memo::new(move |_| {
        row.with(|r| matches!(r.send, Some(SendState::Failed { .. } | SendState::Unknown)))
    });

    let class = move || {
        let mut c = format!("parley-message parley-message-{}", kind.get());
        if continued {
            c.push_str(" parley-message-continued");
        }
        if private.get() {
            c.push_str(" parley-message-private");
        }
        if deleted.get() {
            c.push_str(" parley-message-deleted");
        }
        if matches!(status.get(), "failed" | "unknown") {
            c.push_str(" parley-message-failed");
        }
        c
    };

    // A message the channel failed to deliver (Chatwoot's `failed`, not our send): Retry
    // asks Chatwoot to deliver it again.
    let channel_failed = Memo::new(move |_| {
        row.with(|r| r.send.is_none() && r.message.status == MessageStatus::Failed)
    });
    let channel_retry_error = RwSignal::new(None::<String>);
    let retry_channel = move |_| {
        let message = row.with_untracked(|r| r.message.clone());
        channel_retry_error.set(None);
        chat.spawn(async move {
            if let Err(e) = chat.retry_channel(message).await {
                channel_retry_error.set(Some(e));
            }
        });
    };

    let retry = move |_| {
        if let Some(echo) = echo_id.get_untracked() {
            on_retry.run(echo);
        }
    };

    let discard = move |_| {
        if let Some(echo) = echo_id.get_untracked() {
            on_discard.run(echo);
        }
    };

    view! {
        <article
            class=class
            data-testid="message"
            data-id=move || id.get().unwrap_or_default()
            data-echo-id=move || echo_id.get()
            data-status=move || status.get()
            data-type=move || kind.get()
            data-private=move || private.get().to_string()
            data-sender=move || sender.get()
        >
            <Show
                when=move || kind.get() != "activity"
                fallback=move || view! {
                    <div class="parley-activity">
                        <span data-testid="message-content" class="parley-activity-text" dir="auto" inner_html=move || html.get()></span>
                        <span class="parley-visually-hidden" data-testid="message-sender">{move || name.get()}</span>
                        <time
                            data-testid="message-time"
                            datetime=move || iso_datetime(created_at.get())
                            title=move || local_datetime_label(created_at.get())
                        >
                            {move || local_time_label(created_at.get())}
                        </time>
                    </div>
                }
            >
                <Avatar name=name url=avatar/>
                <div class="parley-bubble-column">
                    <div class="parley-message-meta">
                        <span class="parley-sender" dir="auto" data-testid="message-sender">{move || name.get()}</span>
                        <span class="parley-sender-tag" data-testid="sender-tag" hidden=move || !matches!(sender.get(), "agent_bot" | "captain_assistant")>
                            {move || if sender.get() == "agent_bot" { t("message.bot") } else { t("message.assistant") }}
                        </span>
                        <Show when=move || private.get()>
                            <span class="parley-private-label">
                                <LockIcon/>
                                {t("message.private_note")}
                            </span>
                        </Show>
                    </div>
                    <div class="parley-bubble">
                        {move || reply_to.get().map(|id| view! { <ReplyQuote chat=chat id=id/> })}
                        {move || attachments.get().map(|list| view! { <AttachmentList attachments=list/> })}
                        {move || pending_files.get().map(|e| view! { <PendingFiles chat=chat echo_id=e send=send/> })}
                        <Show
                            when=move || editing.get()
                            fallback=move || view! {
                                // A column, so that a block that goes first (an email's headers) can.
                                <div class="parley-message-body">
                                    <div class="parley-content" dir="auto" data-testid="message-content" hidden=move || text_in_card.get() inner_html=move || html.get()></div>
                                    <div class="parley-blocks" inner_html=move || blocks.get() on:click=copy_contact></div>
                                </div>
                            }
                        >
                            <MessageEditor
                                chat=chat
                                target=row.with_untracked(|r| if r.send.is_some() {
                                    EditTarget::Queued(r.message.echo_id.clone().unwrap_or_default())
                                } else {
                                    EditTarget::Sent(r.message.id)
                                })
                                original=row.with_untracked(|r| r.message.content.clone().unwrap_or_default())
                                on_done=Callback::new(move |()| editing.set(false))
                            />
                        </Show>
                        <div class="parley-bubble-footer">
                            {move || unsupported.get().map(|(label, title)| view! {
                                <span class="parley-unsupported" data-testid="message-unsupported" title=title>{label}</span>
                            })}
                            {move || edited.get().map(|title| view! {
                                <span class="parley-edited" data-testid="edited" title=title>{t("message.edited")}</span>
                            })}
                            <time
                                data-testid="message-time"
                                datetime=move || iso_datetime(created_at.get())
                                title=move || local_datetime_label(created_at.get())
                            >
                                {move || local_time_label(created_at.get())}
                            </time>
                            <Show when=move || kind.get() == "outgoing" && !private.get() && !deleted.get()>
                                <DeliveryStatus status=status/>
                            </Show>
                        </div>
                    </div>
                    <ul class="parley-reactions" data-testid="reactions" inner_html=move || {
                        // A reaction that arrives is an insert: the key list changes.
                        chat.messages.order.track();
                        reaction_chips(chat.messages.reactions_to(row.with_untracked(|r| r.message.id)))
                    }></ul>
                    <Show when=move || !editing.get()>
                        <MessageActions row=row chat=chat editing=editing/>
                    </Show>
                    <Show when=move || failure.with(Option::is_some)>
                        <div class="parley-message-error" role="alert">
                            <span>{move || failure.get().unwrap_or_default()}</span>
                            <button type="button" class="parley-link-button" data-testid="channel-retry" hidden=move || !channel_failed.get() on:click=retry_channel>
                                {t("common.retry")}
                            </button>
                            <span data-testid="channel-retry-error">{move || channel_retry_error.get()}</span>
                            <Show when=move || retryable.get()>
                                <button type="button" class="parley-link-button" data-testid="retry-button" on:click=retry>
                                    {t("common.retry")}
                                </button>
                                <button type="button" class="parley-link-button" data-testid="delete-failed" on:click=discard>
                                    {t("actions.delete")}
                                </button>
                            </Show>
                        </div>
                    </Show>
                </div>
            </Show>
        </article>
    }
}

/// The delivery icon, with a label for screen readers (the icon alone says nothing).
#[component]
fn DeliveryStatus(status: Memo<&'static str>) -> impl IntoView {
    let label = move || match status.get() {
        "queued" => t("status.queued"),
        "sending" => t("status.sending"),
        "sent" => t("status.sent"),
        "delivered" => t("status.delivered"),
        "read" => t("status.read"),
        "failed" => t("status.failed"),
        "unknown" => t("status.unknown"),
        _ => "",
    };
    view! {
        <span class=move || format!("parley-status parley-status-{}", status.get()) title=label>
            {move || match status.get() {
                "queued" | "sending" => view! {
                    <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                        <circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.5"/>
                        <path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/>
                    </svg>
                }.into_any(),
                "sent" => view! {
                    <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                        <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>
                    </svg>
                }.into_any(),
                "delivered" | "read" => view! {
                    <svg viewBox="0 0 20 16" aria-hidden="true" class="parley-icon parley-icon-wide">
                        <path d="M1.5 8.5l3 3 7-7M8.5 11.5l7-7" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>
                        <path d="M7 10l1.5 1.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>
                    </svg>
                }.into_any(),
                _ => view! {
                    <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
                        <circle cx="8" cy="8" r="6.5" fill="currentColor"/>
                        <path d="M8 4.5v4.2M8 11.2v.3" stroke="white" stroke-width="1.6" stroke-linecap="round"/>
                    </svg>
                }.into_any(),
            }}
            <span class="parley-visually-hidden">{label}</span>
        </span>
    }
}

#[component]
fn LockIcon() -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" aria-hidden="true" class="parley-icon">
            <rect x="3.5" y="7" width="9" height="6.5" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.4"/>
            <path d="M5.5 7V5a2.5 2.5 0 015 0v2" fill="none" stroke="currentColor" stroke-width="1.4"/>
        </svg>
    }
}
