//! Who is calling: agent credentials (Chatwoot's `api_access_token` header, either spelling,
//! or devise_token_auth's access-token/client/uid), and account membership
//! (the stored form of every credential is `credentials`).

use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use rusqlite::Connection;
use subtle::ConstantTimeEq;

// Re-exported: what authenticating a request is made of, for the callers that read them
// as part of it.
pub use crate::credentials::{
    agent_pubsub_token, hash_password, legacy_password_digest, pubsub_key, random_token,
    sha256_hex, verify_password, MIN_AGENT_TOKEN_CHARS,
};
use crate::db::{self, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Checks a password against a stored credential, and says whether it must be rehashed
/// (a wrapped legacy digest that the right password can now replace by plain argon2id).
pub fn check_password(stored: &db::PasswordRow, password: &str) -> PasswordCheck {
    match stored.scheme.as_str() {
        db::SCHEME_ARGON2 if verify_password(&stored.hash, password) => PasswordCheck::Valid,
        db::SCHEME_LEGACY_WRAPPED
            if verify_password(
                &stored.hash,
                &legacy_password_digest(&stored.salt, password),
            ) =>
        {
            PasswordCheck::ValidRehash
        }
        _ => PasswordCheck::Invalid,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Valid,
    ValidRehash,
    Invalid,
}

/// Spends the time of one verification when there is no user to check against, so the
/// answer's timing does not say which emails have an account.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("no user has this password"));
    let _ = verify_password(phc, password);
}

/// Constant-time comparison, so a timing side channel does not leak a token or hash.
pub fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The user with the credentials of this request: the token it presented and the pubsub
/// token that goes with it (what the profile and sign-in give back).
pub fn with_tokens(mut user: UserRow, access_token: &str) -> UserRow {
    user.pubsub_token = agent_pubsub_token(access_token);
    user.access_token = access_token.to_owned();
    user
}

/// The signed-in agent of an `/api` request.
pub struct AuthUser(pub UserRow);

impl AuthUser {
    pub fn from_headers(c: &Connection, h: &HeaderMap) -> ApiResult<UserRow> {
        // nginx drops underscore headers by default, so the dash spelling counts as well.
        if let Some(token) = header(h, "api_access_token").or_else(|| header(h, "api-access-token"))
        {
            let user =
                db::user_by_access_token(c, token, db::now_ms())?.ok_or(ApiError::InvalidToken)?;
            return Ok(with_tokens(user, token));
        }
        if let (Some(token), Some(client), Some(uid)) = (
            header(h, "access-token"),
            header(h, "client"),
            header(h, "uid"),
        ) {
            if let Some((user_id, hash, expiry)) = db::session(c, client)? {
                let now = db::now_ms() / 1000;
                if expiry > now && same(&hash, &sha256_hex(token)) {
                    if let Some(u) = db::user(c, user_id)? {
                        if u.email.eq_ignore_ascii_case(uid) {
                            // A session's token is also the access token sign-in gave.
                            return Ok(with_tokens(u, token));
                        }
                    }
                }
            }
        }
        Err(ApiError::SignInRequired)
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state
            .db
            .with(|c| AuthUser::from_headers(c, &parts.headers))
            .map(AuthUser)
    }
}

/// Chatwoot's `ensure_current_account`: a missing account is 404, an account the user is
/// not a member of is Pundit's 401.
pub fn authorize_account(c: &Connection, user: &UserRow, account_id: i64) -> ApiResult<()> {
    if db::account(c, account_id)?.is_none() {
        return Err(ApiError::NotFound);
    }
    if !db::is_member(c, account_id, user.id)? {
        return Err(ApiError::NotAuthorized);
    }
    Ok(())
}

/// The server's public URL (`--public-url`, else the bound address) that attachment URLs
/// are made absolute to, as Rails' `url_for` does. Never the request's `Host` or
/// `X-Forwarded-*`: a customer could otherwise point the links agents click at any host.
pub struct Origin(pub String);

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Origin(state.public_url.to_string()))
    }
}
