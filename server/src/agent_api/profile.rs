//! `POST /auth/sign_in` (devise_token_auth) and `GET /api/v1/profile`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use parley_wire::{Profile, SignInRequest};
use serde_json::json;

use tokio::sync::Semaphore;

use crate::auth::{self, random_token, sha256_hex, AuthUser, PasswordCheck};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::throttle::{retry_after_secs, too_many, PeerAddr};
use crate::views;
use crate::AppState;

/// devise_token_auth's default token lifespan.
const SESSION_SECONDS: i64 = 14 * 24 * 3600;

/// Password checks running at once. Each costs argon2's 19 MiB and ~20 ms of a core, so
/// many sign-ins from many addresses queue here instead of taking all memory and cores.
static PASSWORD_CHECKS: Semaphore = Semaphore::const_new(2);

fn throttled(wait: std::time::Duration) -> Response {
    too_many(
        wait,
        json!({
            "success": false,
            "errors": [format!(
                "Too many sign-in attempts. Try again in {} seconds.",
                retry_after_secs(wait)
            )]
        }),
    )
}

/// Runs `f` (argon2 work) off the async threads, a bounded number at a time.
async fn password_work<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let _permit = PASSWORD_CHECKS
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Throttled per address and per email (Chatwoot's rack-attack `login/ip` and
/// `login/email`). A right password gives a new access token (also the devise session's
/// token) that expires with the session: the database keeps only digests, so a token can
/// be handed out only when it is made.
pub async fn sign_in(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    body: Option<Json<SignInRequest>>,
) -> ApiResult<Response> {
    if let Err(wait) = state.throttles.sign_in_address(peer) {
        return Ok(throttled(wait));
    }
    let invalid = || {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "success": false,
                "errors": ["Invalid login credentials. Please try again."]
            })),
        )
            .into_response()
    };
    let Some(Json(req)) = body else {
        return Ok(invalid());
    };
    if let Err(wait) = state.throttles.sign_in_email(&req.email) {
        return Ok(throttled(wait));
    }
    let found = state.db.with(|c| -> ApiResult<_> {
        let Some(user) = db::user_by_email(c, req.email.trim())? else {
            return Ok(None);
        };
        Ok(db::user_password(c, user.id)?.map(|p| (user, p)))
    })?;
    let password = req.password.clone();
    let Some((user, stored)) = found else {
        password_work(move || auth::verify_nothing(&password)).await?;
        return Ok(invalid());
    };
    let (check, rehashed) = password_work(move || {
        let check = auth::check_password(&stored, &password);
        let rehashed =
            (check == PasswordCheck::ValidRehash).then(|| auth::hash_password(&password));
        (check, rehashed)
    })
    .await?;
    if check == PasswordCheck::Invalid {
        return Ok(invalid());
    }
    let (user, client, token, expiry, data) = state.db.tx(|c| -> ApiResult<_> {
        if let Some(phc) = &rehashed {
            db::set_password(c, user.id, phc)?;
        }
        let client = random_token(22);
        let token = random_token(24);
        let now = db::now_ms();
        let expiry = now / 1000 + SESSION_SECONDS;
        db::insert_access_token(
            c,
            user.id,
            &token,
            db::TOKEN_SIGN_IN,
            Some(expiry * 1000),
            now,
        )?;
        db::insert_session(c, &client, user.id, &sha256_hex(&token), expiry)?;
        let user = auth::with_tokens(user, &token);
        let data = views::profile_value(c, &user)?;
        Ok((user, client, token, expiry, data))
    })?;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("access-token", token),
        ("token-type", "Bearer".to_owned()),
        ("client", client),
        ("expiry", expiry.to_string()),
        ("uid", user.email.clone()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    Ok((headers, Json(json!({ "data": data }))).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<Profile>> {
    let profile = state.db.with(|c| views::profile(c, &user))?;
    Ok(Json(profile))
}
