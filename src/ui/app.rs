//! The app shell and the routes, all in one place.

use leptos::prelude::*;

use crate::effects::host_events::{HostCallbacks, HostEvents};
use crate::effects::telemetry::Telemetry;

use crate::config::Config;
use crate::i18n::{self, t};
use crate::state::session::{SessionCtx, SessionState};
use crate::ui::chat_screen::ChatScreen;
use crate::ui::conversation_list::ConversationList;
use crate::ui::loading::Loading;
use crate::ui::routes::{self, Route};
use crate::ui::sign_in::SignIn;

/// The standalone app: Chatwoot's own URL shapes under `/app/`.
#[component]
pub fn App(config: Config) -> impl IntoView {
    provide_context(Telemetry::new(config.telemetry.as_deref(), None, None));
    let locale = i18n::resolve(config.locale.as_deref());
    let (lang, dir) = (locale.tag.clone(), locale.lang.dir());
    // Standalone, the page is Parley's: its <html> speaks the language too (the title,
    // the browser's own UI, a screen reader's voice before the root is reached).
    if let Some(html) = document().document_element() {
        let _ = html.set_attribute("lang", &lang);
        let _ = html.set_attribute("dir", dir);
    }
    i18n::provide(locale);
    let theme = theme_attribute(&config);
    let session = SessionCtx::new(config);
    provide_context(session);
    session.restore();
    crate::effects::clock::warm_up_formats();
    let route = routes::provide_routes();

    view! {
        <div
            class="parley parley-standalone"
            lang=lang
            dir=dir
            data-theme=theme
            on:click=move |ev| routes::follow_link_in_page(&ev)
        >
            // Keyed by the route: another conversation gets a fresh screen and fresh state.
            {move || match route.get() {
                Route::SignIn => view! { <SignInRoute/> }.into_any(),
                Route::List { account_id } => {
                    view! {
                        <RequireSession>
                            <ConversationList account_id=account_id/>
                        </RequireSession>
                    }
                        .into_any()
                }
                Route::Chat { account_id, conversation_id } => {
                    view! {
                        <RequireSession>
                            <ChatScreen account_id=account_id conversation_id=conversation_id/>
                        </RequireSession>
                    }
                        .into_any()
                }
                Route::NotFound => view! { <NotFound/> }.into_any(),
            }}
        </div>
    }
}

/// An embedded chat: one conversation at a time, no router (the host page owns its URL).
#[component]
pub fn EmbeddedApp(
    config: Config,
    /// The conversation shown; the host switches it with `setConversation()`.
    conversation: Signal<i64>,
    /// The embedder's `onTelemetry` callback, if it passed one.
    on_telemetry: Option<js_sys::Function>,
    /// The embedder's other callbacks (sent, failed, unread).
    callbacks: HostCallbacks,
    /// The element the host mounted Parley into (its DOM events are dispatched there).
    host: web_sys::HtmlElement,
) -> impl IntoView {
    provide_context(Telemetry::new(
        config.telemetry.as_deref(),
        on_telemetry,
        Some(host.clone()),
    ));
    provide_context(HostEvents::new(host, callbacks));
    // Parley's own root carries the language and direction, never the host's <html>.
    let locale = i18n::resolve(config.locale.as_deref());
    let (lang, dir) = (locale.tag.clone(), locale.lang.dir());
    i18n::provide(locale);
    let account_id = config.account_id;
    let theme = theme_attribute(&config);
    let session = SessionCtx::embedded(config);
    provide_context(session);
    session.restore();
    crate::effects::clock::warm_up_formats();

    view! {
        <div class="parley parley-embedded" lang=lang dir=dir data-theme=theme>
            <RequireSession>
                // Keyed by the id: another conversation gets a fresh screen and fresh state,
                // and the old screen's connection closes.
                {move || {
                    let id = conversation.get();
                    view! { <ChatScreen account_id=account_id conversation_id=id/> }
                }}
            </RequireSession>
        </div>
    }
}

/// `data-theme` for the root: the config's `"light"` or `"dark"`; none (follow
/// `prefers-color-scheme`) for `"auto"` or nothing.
fn theme_attribute(config: &Config) -> Option<&'static str> {
    match config.theme.as_deref() {
        Some("light") => Some("light"),
        Some("dark") => Some("dark"),
        _ => None,
    }
}

/// Shows its children only with a valid session; otherwise the sign-in form, in place, so
/// that the agent lands where they were going once signed in.
#[component]
fn RequireSession(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<SessionCtx>();
    let signed_in = Memo::new(move |_| matches!(session.state.get(), SessionState::SignedIn(_)));
    let checking = Memo::new(move |_| matches!(session.state.get(), SessionState::Checking));
    move || {
        if signed_in.get() {
            children().into_any()
        } else if checking.get() {
            view! { <Loading label=t("app.checking_session")/> }.into_any()
        } else {
            view! { <SignIn/> }.into_any()
        }
    }
}

#[component]
fn SignInRoute() -> impl IntoView {
    let session = expect_context::<SessionCtx>();
    // Once signed in, go to the account's conversations.
    Effect::new(move |_| {
        if let SessionState::SignedIn(s) = session.state.get() {
            let account = session.home_account(&s.profile);
            routes::navigate(&format!("/app/accounts/{account}/conversations"));
        }
    });
    move || match session.state.get() {
        SessionState::Checking | SessionState::SignedIn(_) => {
            view! { <Loading label=t("app.signing_in")/> }.into_any()
        }
        SessionState::SignedOut { .. } => view! { <SignIn/> }.into_any(),
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <div class="parley-empty-state">
            <h1>{t("app.not_found.title")}</h1>
            <p>{t("app.not_found.text")}</p>
            <a href="/app/login">{t("app.not_found.link")}</a>
        </div>
    }
}
