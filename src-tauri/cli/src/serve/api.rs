//! `POST /api/<command>`: the core's command table over HTTP.

use super::{error, AppState};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use shelfmark_core::api::{ApiError, Transport};
use shelfmark_core::commands;
use shelfmark_core::ErrorCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The HTTP status of each error code. Exhaustive: a new code must choose its status here.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::NotFound | ErrorCode::UnknownCommand => StatusCode::NOT_FOUND,
        ErrorCode::BadQuery | ErrorCode::BadRequest | ErrorCode::Usage => StatusCode::BAD_REQUEST,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::BadHost => StatusCode::MISDIRECTED_REQUEST,
        ErrorCode::NotIndexed | ErrorCode::Cancelled | ErrorCode::Interrupted => {
            StatusCode::CONFLICT
        }
        ErrorCode::Edit | ErrorCode::Export => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::FetchFailed | ErrorCode::NotAnImage | ErrorCode::TooLarge => {
            StatusCode::BAD_GATEWAY
        }
        ErrorCode::Io
        | ErrorCode::Index
        | ErrorCode::SchemaTooNew
        | ErrorCode::NotAFolder
        | ErrorCode::Incomplete
        | ErrorCode::Refused
        | ErrorCode::NoArchive
        | ErrorCode::Unsupported
        | ErrorCode::Network
        | ErrorCode::Dialog
        | ErrorCode::Gone
        | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn fail(e: ApiError) -> Response {
    (status_of(e.code), Json(e)).into_response()
}

/// A JSON body; an empty body is `{}`.
fn parse(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        error(
            ErrorCode::BadRequest,
            format!("the request body is not valid: {e}"),
        )
    })
}

/// The answer of `serve`'s own `changes` command.
#[derive(Debug, Serialize)]
struct Changes {
    changes: u64,
}

pub async fn api(
    st: &Arc<AppState>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    if !super::policy::authorized(st, headers) {
        return fail(error(
            ErrorCode::Unauthorized,
            "this request needs the session token: open the address that `shelfmark serve` printed",
        ));
    }
    if method != Method::POST {
        return fail(error(ErrorCode::MethodNotAllowed, "api requests use POST"));
    }
    let command = path.trim_start_matches("/api").trim_start_matches('/');
    if command == "changes" {
        let changes = st.changes.load(Ordering::Relaxed);
        return Json(Changes { changes }).into_response();
    }
    if commands::spec(command).is_none() {
        return fail(error(
            ErrorCode::UnknownCommand,
            format!("there is no api command {command:?}"),
        ));
    }
    let args = match parse(&body) {
        Ok(args) => args,
        Err(e) => return fail(e),
    };
    let (st, command) = (st.clone(), command.to_string());
    // Core calls are synchronous: run them on the blocking pool.
    let answer = tokio::task::spawn_blocking(move || {
        commands::call(&st.archive, Transport::Http, &st.jobs, &command, args, None)
    })
    .await;
    match answer {
        Ok(Ok(value)) => Json(value).into_response(),
        Ok(Err(e)) => fail(e),
        Err(_) => fail(error(
            ErrorCode::Internal,
            "the request failed inside the server",
        )),
    }
}
