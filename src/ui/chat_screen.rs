//! The chat screen: loads the conversation, keeps it live, and lays out the header, the
//! log, the typing line and the composer.

use leptos::prelude::*;

use crate::effects::cable::LiveCable;
use crate::effects::page::WindowListener;
use crate::i18n::t;
use crate::state::conversation::{ChatState, LoadState};
use crate::state::session::SessionCtx;
use crate::ui::composer::Composer;
use crate::ui::connection_banner::ConnectionBanner;
use crate::ui::conversation_header::ConversationHeader;
use crate::ui::lightbox::{Lightbox, LightboxDialog};
use crate::ui::loading::Loading;
use crate::ui::message_list::MessageList;
use crate::ui::send_toast::SendToast;
use crate::ui::shortcuts_help::{asks_for_help, ShortcutsHelp};
use crate::ui::typing_indicator::TypingIndicator;

/// Shown over the conversation while files are dragged onto it.

#[component]
pub fn ChatScreen(account_id: i64, conversation_id: i64) -> impl IntoView {
    let session_ctx = expect_context::<SessionCtx>();
    let Some(session) = session_ctx.session() else {
        return view! { <Loading label=t("app.checking_session")/> }.into_any();
    };
    let chat = ChatState::new(
        session.api.clone(),
        session.profile.clone(),
        account_id,
        conversation_id,
    );
    let config = session_ctx.config();
    let chat = chat.with_max_file_bytes(config.max_file_bytes);

    // The session's outbox shows this conversation's unsent messages here and hears from
    // this screen's connection whether requests can get through; the chat lets go of it
    // when the screen goes.
    if let Some(outbox) = session_ctx.outbox(account_id) {
        chat.attach_outbox(&outbox);
    }
    Effect::new(move |_| chat.connection_changed(chat.connection.get()));

    chat.spawn(chat.load());

    // The cable lives as long as this screen: dropping it closes the socket.
    let cable = StoredValue::new_local(None::<LiveCable>);
    let cable_url = config.cable_url();
    Effect::new(move |_| {
        if chat.load.get() == LoadState::Ready && cable.with_value(Option::is_none) {
            cable.set_value(Some(LiveCable::start(&cable_url, chat)));
        }
    });

    // Coming back to the tab marks read what arrived while the agent was away.
    let _listeners = StoredValue::new_local(
        [
            WindowListener::on_window("focus", move || chat.mark_read_if_watching(false)),
            WindowListener::on_document("visibilitychange", move || {
                chat.mark_read_if_watching(false)
            }),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>(),
    );
    on_cleanup(move || chat.typing_stop());

    // The host hears the unread count when it changes (from 0 at the start of the screen).
    if let Some(host) = chat.host_events.get_value() {
        Effect::new(move |previous: Option<u32>| {
            let count = chat.unread.get();
            if previous.unwrap_or(0) != count {
                host.unread_count(conversation_id, count);
            }
            count
        });
    }

    let sign_out = Callback::new(move |_| {
        chat.typing_stop();
        session_ctx.sign_out();
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_href("/app/login");
        }
    });
    let embedded = config.conversation_id.is_some() && !config.demo;
    // Outside the log: the virtualized rows come and go, the lightbox stays.
    let lightbox = Lightbox::provide();

    // Files dragged onto the conversation join the composer's tray. Enter and leave fire
    // for every child crossed, so the hint counts them to know when the drag has left.
    let drag_depth = RwSignal::new(0i32);
    let carries_files = |ev: &web_sys::DragEvent| {
        ev.data_transfer().is_some_and(|d| {
            d.types()
                .iter()
                .any(|t| t.as_string().as_deref() == Some("Files"))
        })
    };
    let on_drag_enter = move |ev: web_sys::DragEvent| {
        if carries_files(&ev) {
            ev.prevent_default();
            drag_depth.update(|d| *d += 1);
        }
    };
    let on_drag_over = move |ev: web_sys::DragEvent| {
        if carries_files(&ev) {
            // Without this the browser opens the file instead of dropping it here.
            ev.prevent_default();
            if let Some(d) = ev.data_transfer() {
                d.set_drop_effect("copy");
            }
        }
    };
    let on_drag_leave = move |_: web_sys::DragEvent| drag_depth.update(|d| *d = (*d - 1).max(0));
    let on_drop = move |ev: web_sys::DragEvent| {
        drag_depth.set(0);
        let files = crate::state::attaching::files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() {
            ev.prevent_default();
            chat.pick_files(files);
        }
    };

    // `?` opens the keyboard help from anywhere in the chat; standalone, also when nothing
    // has focus yet (an embedded chat leaves the host's keys to the host).
    let help = RwSignal::new(false);
    let help_key = move |ev: &web_sys::KeyboardEvent| {
        if asks_for_help(ev) {
            ev.prevent_default();
            help.set(true);
        }
    };
    let _help_listener = StoredValue::new_local((!embedded).then(|| {
        WindowListener::on_document_event("keydown", move |ev| {
            use wasm_bindgen::JsCast;
            if let Some(ev) = ev.dyn_ref::<web_sys::KeyboardEvent>() {
                help_key(ev);
            }
        })
    }));

    view! {
        <section
            class="parley-chat"
            data-testid="chat-screen"
            on:keydown=move |ev| help_key(&ev)
            on:dragenter=on_drag_enter
            on:dragover=on_drag_over
            on:dragleave=on_drag_leave
            on:drop=on_drop
        >
            <Show when=move || { drag_depth.get() > 0 }>
                <div class="parley-drop-hint" data-testid="drop-hint" aria-hidden="true">
                    {t("composer.drop_hint")}
                </div>
            </Show>
            <ConversationHeader
                chat=chat
                on_sign_out=(!embedded).then_some(sign_out)
                on_help=Callback::new(move |()| help.set(true))
            />
            <ConnectionBanner chat=chat/>
            {move || match chat.load.get() {
                LoadState::Loading => view! { <Loading label=t("chat.loading")/> }.into_any(),
                LoadState::Failed(message) => view! {
                    <div class="parley-load-error" role="alert">
                        <p>{message}</p>
                        <button type="button" class="parley-button" on:click=move |_| chat.spawn(chat.load())>
                            {t("common.try_again")}
                        </button>
                    </div>
                }.into_any(),
                LoadState::Ready => view! { <MessageList chat=chat/> }.into_any(),
            }}
            <TypingIndicator chat=chat/>
            <SendToast chat=chat/>
            <Composer chat=chat/>
            <ShortcutsHelp open=help rich_text=config.features.rich_text_editor/>
            <LightboxDialog chat=chat lightbox=lightbox/>
        </section>
    }
    .into_any()
}
