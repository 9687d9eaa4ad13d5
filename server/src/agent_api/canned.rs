//! `GET /api/v1/accounts/{a}/canned_responses[?search=]`: plain ActiveRecord JSON.

use axum::extract::{Path, Query, State};
use axum::Json;
use parley_wire::CannedResponse;
use serde::Deserialize;

use crate::auth::{authorize_account, AuthUser};
use crate::db;
use crate::error::ApiResult;
use crate::views;
use crate::AppState;

#[derive(Deserialize)]
pub struct Search {
    search: Option<String>,
}

pub async fn index(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(account_id): Path<i64>,
    Query(q): Query<Search>,
) -> ApiResult<Json<Vec<CannedResponse>>> {
    let rows = state.db.with(|c| -> ApiResult<_> {
        authorize_account(c, &user, account_id)?;
        Ok(db::canned_responses(c, account_id, q.search.as_deref())?)
    })?;
    Ok(Json(rows.iter().map(views::canned).collect()))
}
