//! Who the agent is: checking a token, signed out (with the reason), or signed in with a
//! validated profile. On Parley's own page the token survives reloads in local storage; an
//! embedded chat never writes it to the host's storage (the host hands it over each time).
//! The signed-in session holds its outbox while the app lives.

use leptos::prelude::*;
use parley_wire::Profile;

use crate::config::{page_origin, Config};
use crate::effects::api::{Api, ApiError};
use crate::effects::outbox_driver::{SessionKey, SessionOutbox};
use crate::effects::storage::{self, StoredSession};
use crate::i18n::{t, t_args};

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The API, authenticated as this agent.
    pub api: Api,
    pub profile: Profile,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    /// A token is being validated (startup with a stored or configured token).
    Checking,
    /// No valid session; `notice` says why when there is something to say.
    SignedOut {
        notice: Option<String>,
    },
    SignedIn(Box<Session>),
}

/// The session, shared through context. Copy, so event handlers capture it freely.
#[derive(Debug, Clone, Copy)]
pub struct SessionCtx {
    pub state: RwSignal<SessionState>,
    config: StoredValue<Config>,
    /// Keep the token in local storage (Parley's own page), or never (embedded in a host).
    keeps_token: bool,
    /// The signed-in session's outbox, held as long as this app is mounted.
    outbox: StoredValue<Option<SessionOutbox>, LocalStorage>,
}

impl SessionCtx {
    /// Parley's own page: the token is kept for the next visit.
    pub fn new(config: Config) -> Self {
        SessionCtx {
            state: RwSignal::new(SessionState::Checking),
            config: StoredValue::new(config),
            keeps_token: true,
            outbox: StoredValue::new_local(None),
        }
    }

    /// A chat mounted in a host page: the host's storage never holds the token.
    pub fn embedded(config: Config) -> Self {
        SessionCtx {
            keeps_token: false,
            ..SessionCtx::new(config)
        }
    }

    /// The signed-in session's outbox for `account_id` (started on first use, shared with
    /// every other chat of the same server, account and agent on the page).
    pub fn outbox(&self, account_id: i64) -> Option<SessionOutbox> {
        let session = self.session()?;
        let key = SessionKey {
            origin: self.origin(),
            account_id,
            profile_id: session.profile.id,
        };
        let held = self
            .outbox
            .with_value(|o| o.clone().filter(|o| *o.key() == key));
        if held.is_some() {
            return held;
        }
        let outbox = SessionOutbox::of(&session.api, key);
        self.outbox.set_value(Some(outbox.clone()));
        Some(outbox)
    }

    pub fn config(&self) -> Config {
        self.config.get_value()
    }

    fn origin(&self) -> String {
        self.config.with_value(Config::api_origin)
    }

    fn anonymous_api(&self) -> Api {
        Api::new(self.origin(), None)
    }

    /// The current session, untracked: screens are rebuilt when the session changes.
    pub fn session(&self) -> Option<Session> {
        match self.state.get_untracked() {
            SessionState::SignedIn(s) => Some(*s),
            _ => None,
        }
    }

    /// On startup: a token handed over by the page wins (demo, embedding), unless the agent
    /// signed out on purpose; then the stored one; otherwise ask the agent to sign in.
    pub fn restore(self) {
        let origin = self.origin();
        let config_token = self
            .config
            .with_value(|c| c.token.clone())
            .filter(|_| !self.keeps_token || !storage::signed_out_on_purpose(&origin));
        let token = config_token.or_else(|| {
            self.keeps_token
                .then(|| storage::load_session(&origin).map(|s| s.token))
                .flatten()
        });
        let Some(token) = token else {
            self.state.set(SessionState::SignedOut { notice: None });
            return;
        };
        self.state.set(SessionState::Checking);
        leptos::task::spawn_local(async move {
            let api = self.anonymous_api().with_token(&token);
            match api.profile().await {
                Ok(profile) => self.signed_in(api, profile),
                Err(e) => {
                    // Keep a stored token when the server is merely unreachable: it may be
                    // perfectly valid once the server is back.
                    let notice = if matches!(e, ApiError::Unauthorized(_)) {
                        if self.keeps_token {
                            storage::clear_session(&origin);
                        }
                        t("session.expired").into()
                    } else {
                        self.describe(&e)
                    };
                    self.state.set(SessionState::SignedOut {
                        notice: Some(notice),
                    });
                }
            }
        });
    }

    /// Email and password, the Chatwoot way: the sign-in response carries the access token,
    /// which is then validated like a pasted one.
    pub async fn sign_in_with_password(
        self,
        email: String,
        password: String,
    ) -> Result<(), String> {
        let profile = self
            .anonymous_api()
            .sign_in(&email, &password)
            .await
            .map_err(|e| match e {
                ApiError::Unauthorized(_) => t("signin.wrong_password").to_owned(),
                other => self.describe(&other),
            })?;
        self.sign_in_with_token(profile.access_token).await
    }

    pub async fn sign_in_with_token(self, token: String) -> Result<(), String> {
        let token = token.trim().to_owned();
        if token.is_empty() {
            return Err(t("signin.paste_token").into());
        }
        let api = self.anonymous_api().with_token(&token);
        let profile = api.profile().await.map_err(|e| match e {
            ApiError::Unauthorized(_) => t("signin.token_rejected").to_owned(),
            other => self.describe(&other),
        })?;
        self.signed_in(api, profile);
        Ok(())
    }

    fn signed_in(self, api: Api, profile: Profile) {
        if self.keeps_token {
            storage::save_session(
                &self.origin(),
                &StoredSession {
                    token: profile.access_token.clone(),
                },
            );
        }
        self.state
            .set(SessionState::SignedIn(Box::new(Session { api, profile })));
    }

    pub fn sign_out(self) {
        if self.keeps_token {
            storage::clear_session(&self.origin());
        }
        // Its timers and listeners stop once its chats are gone too.
        self.outbox.set_value(None);
        self.state.set(SessionState::SignedOut {
            notice: Some(t("signin.signed_out").into()),
        });
    }

    /// The text a person reads in the sign-in form.
    fn describe(&self, e: &ApiError) -> String {
        match e {
            ApiError::Network if self.config.with_value(Config::api_is_cross_origin) => t_args(
                "signin.unreachable_cross_origin",
                &[("origin", &self.origin()), ("page", &page_origin())],
            ),
            ApiError::Network => t_args("signin.unreachable", &[("origin", &self.origin())]),
            other => other.to_string(),
        }
    }

    /// The account to open after signing in: the page's, else the agent's active one.
    pub fn home_account(&self, profile: &Profile) -> i64 {
        let configured = self.config.with_value(|c| c.account_id);
        if profile.accounts.iter().any(|a| a.id == configured) || profile.accounts.is_empty() {
            configured
        } else {
            profile.account_id.unwrap_or(configured)
        }
    }
}
