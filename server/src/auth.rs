//! Who is calling: agent credentials (Chatwoot's `api_access_token` header, either spelling,
//! or devise_token_auth's access-token/client/uid), account membership, random tokens and
//! password hashes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use rand::distributions::Alphanumeric;
use rand::Rng;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::db::{self, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// A random token of letters and digits (Chatwoot's tokens are 24 such characters).
pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn sha256_hex(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A salted SHA-256. Enough for a single-machine dev server whose demo password is
/// printed on start; a real deployment authenticates against Chatwoot.
pub fn hash_password(salt: &str, password: &str) -> String {
    sha256_hex(&format!("{salt}:{password}"))
}

/// Constant-time comparison, so a timing side channel does not leak a token or hash.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The signed-in agent of an `/api` request.
pub struct AuthUser(pub UserRow);

impl AuthUser {
    pub fn from_headers(c: &Connection, h: &HeaderMap) -> ApiResult<UserRow> {
        // nginx drops underscore headers by default, so the dash spelling counts as well.
        if let Some(token) = header(h, "api_access_token").or_else(|| header(h, "api-access-token"))
        {
            return db::user_by_access_token(c, token)?.ok_or(ApiError::InvalidToken);
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
                            return Ok(u);
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
