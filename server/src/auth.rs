//! Who is calling: agent credentials (Chatwoot's `api_access_token` header, either spelling,
//! or devise_token_auth's access-token/client/uid), account membership, random tokens and
//! the stored form of every credential.
//!
//! Nothing the server stores lets a reader of the database act as anyone:
//! - passwords are argon2id PHC strings (the RustCrypto crate's defaults, OWASP's
//!   19 MiB / 2 passes / 1 lane);
//! - access tokens are stored as their SHA-256: a token is 24+ random characters, so a
//!   fast digest is enough (nothing to brute-force), and lookup by digest compares no
//!   secret byte by byte;
//! - an agent's pubsub token is derived from the access token it was given with
//!   ([`agent_pubsub_token`]) and stored as its SHA-256. Chatwoot returns the pubsub token
//!   in `/api/v1/profile` and sign-in; this server can do so because those requests carry
//!   the access token, and never needs it anywhere else: the cable hub is keyed by the
//!   digest;
//! - a contact's pubsub token is derived from its `source_id` ([`contact_pubsub_token`])
//!   and stored as its SHA-256. The public API must find contacts by `source_id`, so that
//!   one stays readable; whoever holds it can already fetch the pubsub token from
//!   `GET .../contacts/{source_id}` (as in Chatwoot), so the derivation gives nothing away.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use rand::distributions::Alphanumeric;
use rand::Rng;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::{self, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// `--agent-token` must be at least this long: Chatwoot's access tokens are Rails'
/// `has_secure_token`, 24 base58 characters (about 140 bits); a shorter token chosen by
/// hand is guessable in a way a generated one is not.
pub const MIN_AGENT_TOKEN_CHARS: usize = 24;

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

/// The pubsub token that goes with an access token. Derived rather than random so it can
/// be given back whenever the access token is presented, while the database keeps only
/// digests of both.
pub fn agent_pubsub_token(access_token: &str) -> String {
    sha256_hex(&format!("parley agent pubsub token\n{access_token}"))[..32].to_owned()
}

/// A contact inbox's pubsub token (see the module comment for why it may be derived).
pub fn contact_pubsub_token(source_id: &str) -> String {
    sha256_hex(&format!("parley contact pubsub token\n{source_id}"))[..32].to_owned()
}

/// The key a pubsub token is stored and subscribed under: its SHA-256.
pub fn pubsub_key(pubsub_token: &str) -> String {
    sha256_hex(pubsub_token)
}

/// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password`.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Only a salt or output length outside argon2's bounds fails, and both are fixed.
        .expect("argon2 hashes with its default parameters")
}

/// Whether `password` matches a PHC string (any argon2 variant and cost it names).
pub fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// What databases from before argon2 stored: SHA-256 of `salt:password`, hex. The
/// migration wraps these digests in argon2id at once (see `db`), so this only turns a typed
/// password into what those wrapped hashes were made from.
pub fn legacy_password_digest(salt: &str, password: &str) -> String {
    sha256_hex(&format!("{salt}:{password}"))
}

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
