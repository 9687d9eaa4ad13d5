//! Signing in the way Chatwoot does: email and password, or a pasted access token.

use leptos::prelude::*;

use crate::i18n::t;
use crate::state::session::{SessionCtx, SessionState};

#[component]
pub fn SignIn() -> impl IntoView {
    let session = expect_context::<SessionCtx>();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    // What the last attempt (or the session restore) said.
    let error = RwSignal::new(match session.state.get_untracked() {
        SessionState::SignedOut { notice } => notice,
        _ => None,
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (email, password, token) = (
            email.get_untracked().trim().to_owned(),
            password.get_untracked(),
            token.get_untracked().trim().to_owned(),
        );
        let attempt = if !token.is_empty() {
            Some(Attempt::Token(token))
        } else if !email.is_empty() && !password.is_empty() {
            Some(Attempt::Password(email, password))
        } else {
            None
        };
        let Some(attempt) = attempt else {
            error.set(Some(t("signin.missing").into()));
            return;
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = match attempt {
                Attempt::Token(t) => session.sign_in_with_token(t).await,
                Attempt::Password(e, p) => session.sign_in_with_password(e, p).await,
            };
            busy.set(false);
            if let Err(message) = result {
                error.set(Some(message));
            }
        });
    };

    view! {
        <main class="parley-sign-in">
            <form class="parley-card parley-sign-in-card" data-testid="sign-in-form" on:submit=submit novalidate>
                <div class="parley-brand">
                    <span class="parley-logo" aria-hidden="true">"P"</span>
                    <h1>{t("signin.title")}</h1>
                </div>
                <p class="parley-muted">{t("signin.subtitle")}</p>
                <label class="parley-field">
                    <span>{t("signin.email")}</span>
                    <input
                        type="email"
                        name="email"
                        autocomplete="username"
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))
                    />
                </label>
                <label class="parley-field">
                    <span>{t("signin.password")}</span>
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </label>
                <div class="parley-divider"><span>{t("signin.or")}</span></div>
                <label class="parley-field">
                    <span>{t("signin.token")}</span>
                    <input
                        type="password"
                        name="token"
                        autocomplete="off"
                        placeholder=t("signin.token_placeholder")
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))
                    />
                </label>
                <p
                    class="parley-form-error"
                    data-testid="sign-in-error"
                    role="alert"
                    hidden=move || error.with(Option::is_none)
                >
                    {move || error.get().unwrap_or_default()}
                </p>
                <button class="parley-button parley-button-primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { t("app.signing_in") } else { t("signin.submit") }}
                </button>
            </form>
        </main>
    }
}

enum Attempt {
    Token(String),
    Password(String, String),
}
