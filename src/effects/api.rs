//! Chatwoot's agent REST API over `fetch` (gloo-net). Every call returns a typed error
//! that says what a person needs to know; the wire types come from `parley-wire`.

use gloo_net::http::{Request, RequestBuilder, Response};
use parley_wire::{
    CannedResponse, Conversation, ConversationList, ErrorBody, Message, MessagesIndex, NewMessage,
    Profile, SignInRequest, SignInResponse, TypingStatus, TypingStatusRequest,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::i18n::{t, t_args};

/// Why a request did not give us what we asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// No HTTP answer at all: offline, DNS, refused connection, CORS, dropped response.
    #[error("{}", t("api.network"))]
    Network,
    /// 401: a wrong token, an expired session, a wrong password (the caller knows which).
    #[error("{0}")]
    Unauthorized(String),
    /// Any other non-2xx answer, with the server's own `{error}` text when it sent one.
    #[error("{message}")]
    Http { status: u16, message: String },
    /// A 2xx answer we could not read: a contract drift, shown rather than swallowed.
    #[error("{}", t_args("api.decode", &[("detail", .0)]))]
    Decode(String),
}

impl ApiError {
    /// The request may have reached the server (for the outbox: resend only if idempotent).
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ApiError::Network => true,
            ApiError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Extensions of the backend beyond Chatwoot's API (none for a real Chatwoot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub echo_id_idempotency: bool,
    /// How long the backend remembers an `echo_id` (the proxy: 600 s); `None` with
    /// idempotency: for good (parley-server's unique index).
    pub echo_id_window_seconds: Option<u64>,
    pub message_edit: bool,
}

/// The account-scoped API as one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    origin: String,
    token: Option<String>,
}

impl Api {
    pub fn new(origin: impl Into<String>, token: Option<String>) -> Self {
        Api {
            origin: origin.into(),
            token,
        }
    }

    /// The server this API talks to (`""` for the page's own origin).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api::new(self.origin.clone(), Some(token.to_owned()))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin, path)
    }

    /// The token requests carry (for an upload, which goes by XHR rather than `fetch`).
    pub(crate) fn access_token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn authed(&self, req: RequestBuilder) -> RequestBuilder {
        let req = req.header("Accept", "application/json");
        match &self.token {
            // Chatwoot's own spelling; every Chatwoot-compatible server must accept it.
            Some(t) => req.header("api_access_token", t),
            None => req,
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let resp = self
            .authed(Request::get(&self.url(path)))
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        decode(resp).await
    }

    async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let resp = self
            .authed(Request::delete(&self.url(path)))
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        decode(resp).await
    }

    async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let resp = self.post_raw(path, body).await?;
        decode(resp).await
    }

    /// For endpoints whose body we do not need (`toggle_typing_status` answers empty).
    async fn post_ignore<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ApiError> {
        let resp = self.post_raw(path, body).await?;
        if resp.ok() {
            Ok(())
        } else {
            Err(error_of(resp).await)
        }
    }

    async fn post_raw<B: Serialize>(&self, path: &str, body: &B) -> Result<Response, ApiError> {
        self.post_abortable(path, body, None).await
    }

    /// A POST that `signal` can call off (the outbox aborts a request past its timeout).
    async fn post_abortable<B: Serialize>(
        &self,
        path: &str,
        body: &B,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<Response, ApiError> {
        self.authed(Request::post(&self.url(path)))
            .abort_signal(signal)
            .json(body)
            .map_err(|e| ApiError::Decode(e.to_string()))?
            .send()
            .await
            .map_err(|_| ApiError::Network)
    }

    /// `POST /auth/sign_in`: the user JSON carries the agent's `access_token`.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Profile, ApiError> {
        let body = SignInRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let resp: SignInResponse =
            self.post_json("/auth/sign_in", &body)
                .await
                .map_err(|e| match e {
                    ApiError::Unauthorized(_) => {
                        ApiError::Unauthorized(t("api.wrong_password").into())
                    }
                    other => other,
                })?;
        Ok(resp.data)
    }

    /// `GET /api/v1/profile`: validates the token and gives the cable `pubsub_token`.
    pub async fn profile(&self) -> Result<Profile, ApiError> {
        self.get("/api/v1/profile").await.map_err(|e| match e {
            ApiError::Unauthorized(_) => ApiError::Unauthorized(t("api.token_invalid").into()),
            other => other,
        })
    }

    pub async fn conversations(&self, account_id: i64) -> Result<ConversationList, ApiError> {
        self.get(&format!(
            "/api/v1/accounts/{account_id}/conversations?status=all"
        ))
        .await
    }

    pub async fn conversation(&self, account_id: i64, id: i64) -> Result<Conversation, ApiError> {
        self.get(&format!("/api/v1/accounts/{account_id}/conversations/{id}"))
            .await
    }

    /// Newest 20 (no cursor), the 20 before `before`, or up to 100 after `after`.
    pub async fn messages(
        &self,
        account_id: i64,
        id: i64,
        page: MessagePage,
    ) -> Result<MessagesIndex, ApiError> {
        let query = match page {
            MessagePage::Newest => String::new(),
            MessagePage::Before(m) => format!("?before={m}"),
            MessagePage::After(m) => format!("?after={m}"),
        };
        self.get(&format!(
            "/api/v1/accounts/{account_id}/conversations/{id}/messages{query}"
        ))
        .await
    }

    /// Every message after `after` (the newest page when `None`), all pages: the one
    /// resync, for a chat that reconnects and for the outbox that matches what it sent.
    pub async fn messages_after(
        &self,
        account_id: i64,
        id: i64,
        after: Option<i64>,
    ) -> Result<Vec<Message>, ApiError> {
        /// Chatwoot pages `after=` at 100 (a full page means there may be more).
        const AFTER_PAGE: usize = 100;
        let Some(mut after) = after else {
            return Ok(self
                .messages(account_id, id, MessagePage::Newest)
                .await?
                .payload);
        };
        let mut all = Vec::new();
        // A bound, so that a server that keeps answering full pages cannot loop us forever.
        for _ in 0..100 {
            let page = self
                .messages(account_id, id, MessagePage::After(after))
                .await?
                .payload;
            let count = page.len();
            let newest = page.iter().map(|m| m.id).max();
            all.extend(page);
            match newest {
                Some(n) if count >= AFTER_PAGE && n > after => after = n,
                _ => break,
            }
        }
        Ok(all)
    }

    /// `POST .../messages`; `signal` (an `AbortController`'s) can call it off.
    pub async fn send_message(
        &self,
        account_id: i64,
        id: i64,
        message: &NewMessage,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<Message, ApiError> {
        let resp = self
            .post_abortable(
                &format!("/api/v1/accounts/{account_id}/conversations/{id}/messages"),
                message,
                signal,
            )
            .await?;
        decode(resp).await
    }

    /// What the backend adds to Chatwoot's API (`parley-server`'s capabilities extension).
    /// A real Chatwoot has no such endpoint: 404 means none. Asked once per page and
    /// server (the outbox and the chat view both need it); a failure is not remembered.
    pub async fn capabilities(&self) -> Result<Capabilities, ApiError> {
        thread_local! {
            static KNOWN: std::cell::RefCell<std::collections::HashMap<String, Capabilities>> =
                std::cell::RefCell::new(std::collections::HashMap::new());
        }
        if let Some(known) = KNOWN.with(|k| k.borrow().get(&self.origin).copied()) {
            return Ok(known);
        }
        let answer = self.fetch_capabilities().await;
        if let Ok(c) = answer {
            KNOWN.with(|k| k.borrow_mut().insert(self.origin.clone(), c));
        }
        answer
    }

    async fn fetch_capabilities(&self) -> Result<Capabilities, ApiError> {
        match self
            .get::<serde_json::Value>("/api/v1/parley/capabilities")
            .await
        {
            Ok(v) => {
                let flag = |name: &str| {
                    v.pointer(&format!("/parley/{name}"))
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(false)
                };
                Ok(Capabilities {
                    echo_id_idempotency: flag("echo_id_idempotency"),
                    echo_id_window_seconds: v
                        .pointer("/parley/echo_id_window_seconds")
                        .and_then(serde_json::Value::as_u64),
                    message_edit: flag("message_edit"),
                })
            }
            Err(ApiError::Http { status: 404, .. }) => Ok(Capabilities::default()),
            Err(e) => Err(e),
        }
    }

    /// Whether the backend makes `echo_id` an idempotency key, and for how long (ms;
    /// `None`: for good).
    pub async fn echo_id_idempotency(&self) -> Result<(bool, Option<u64>), ApiError> {
        self.capabilities().await.map(|c| {
            (
                c.echo_id_idempotency,
                c.echo_id_window_seconds.map(|s| s.saturating_mul(1000)),
            )
        })
    }

    /// `parley-server`'s edit extension: the author replaces a sent message's text; the
    /// answer is the message with `content_attributes.edited`.
    pub async fn edit_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        message_id: i64,
        content: &str,
    ) -> Result<Message, ApiError> {
        let resp = self
            .authed(Request::patch(&self.url(&format!(
                "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}/content"
            ))))
            .json(&serde_json::json!({ "content": content }))
            .map_err(|e| ApiError::Decode(e.to_string()))?
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        decode(resp).await
    }

    pub async fn toggle_typing(
        &self,
        account_id: i64,
        id: i64,
        status: TypingStatus,
        is_private: bool,
    ) -> Result<(), ApiError> {
        self.post_ignore(
            &format!("/api/v1/accounts/{account_id}/conversations/{id}/toggle_typing_status"),
            &TypingStatusRequest {
                typing_status: status,
                is_private,
            },
        )
        .await
    }

    /// Chatwoot's soft delete: the answer is the message as it now is ("This message was
    /// deleted", `content_attributes.deleted`), and watchers get `message.updated`.
    pub async fn delete_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        message_id: i64,
    ) -> Result<Message, ApiError> {
        self.delete(&format!(
            "/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}"
        ))
        .await
    }

    /// Asks the channel to deliver a failed message again (`MessagesController#retry`;
    /// Chatwoot answers no body, the new status comes as `message.updated`).
    pub async fn retry_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        message_id: i64,
    ) -> Result<(), ApiError> {
        self.post_ignore(
            &format!("/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}/retry"),
            &serde_json::json!({}),
        )
        .await
    }

    /// The account's canned responses matching `search` (short code or content).
    pub async fn canned_responses(
        &self,
        account_id: i64,
        search: &str,
    ) -> Result<Vec<CannedResponse>, ApiError> {
        let search = String::from(js_sys::encode_uri_component(search));
        self.get(&format!(
            "/api/v1/accounts/{account_id}/canned_responses?search={search}"
        ))
        .await
    }

    pub async fn update_last_seen(&self, account_id: i64, id: i64) -> Result<(), ApiError> {
        self.post_ignore(
            &format!("/api/v1/accounts/{account_id}/conversations/{id}/update_last_seen"),
            &serde_json::json!({}),
        )
        .await
    }
}

/// Which slice of a conversation's history to fetch (the cursors are message ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagePage {
    Newest,
    Before(i64),
    After(i64),
}

async fn decode<T: DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    if !resp.ok() {
        return Err(error_of(resp).await);
    }
    let text = resp.text().await.map_err(|_| ApiError::Network)?;
    parley_wire::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))
}

async fn error_of(resp: Response) -> ApiError {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    error_from(status, &text)
}

/// The error of a non-2xx answer `status` whose body is `text`.
pub(crate) fn error_from(status: u16, text: &str) -> ApiError {
    let server_text = parley_wire::from_str::<ErrorBody>(text)
        .ok()
        .and_then(|b| b.text().map(str::to_owned));
    match status {
        401 => {
            ApiError::Unauthorized(server_text.unwrap_or_else(|| t("api.not_signed_in").to_owned()))
        }
        _ => ApiError::Http {
            status,
            message: server_text
                .unwrap_or_else(|| t_args("api.http", &[("status", &status.to_string())])),
        },
    }
}
