//! `POST /auth/sign_in` (devise_token_auth) and `GET /api/v1/profile`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use parley_wire::{Profile, SignInRequest};
use serde_json::json;

use crate::auth::{hash_password, random_token, same, sha256_hex, AuthUser};
use crate::db;
use crate::error::ApiResult;
use crate::views;
use crate::AppState;

/// devise_token_auth's default token lifespan.
const SESSION_SECONDS: i64 = 14 * 24 * 3600;

pub async fn sign_in(
    State(state): State<AppState>,
    body: Option<Json<SignInRequest>>,
) -> ApiResult<Response> {
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
    let session = state.db.with(|c| -> ApiResult<_> {
        let Some(user) = db::user_by_email(c, req.email.trim())? else {
            return Ok(None);
        };
        let Some((salt, hash)) = db::user_password(c, user.id)? else {
            return Ok(None);
        };
        if !same(&hash, &hash_password(&salt, &req.password)) {
            return Ok(None);
        }
        let client = random_token(22);
        let token = random_token(22);
        let expiry = db::now_ms() / 1000 + SESSION_SECONDS;
        db::insert_session(c, &client, user.id, &sha256_hex(&token), expiry)?;
        let data = views::profile_value(c, &user)?;
        Ok(Some((user, client, token, expiry, data)))
    })?;
    let Some((user, client, token, expiry, data)) = session else {
        return Ok(invalid());
    };
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
