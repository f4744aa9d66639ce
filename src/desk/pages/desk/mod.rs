//! `GET /`: the desk page, rendered whole from the engine's view of the event.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::model::Page;
use crate::control::Request;
use crate::desk::Shared;

pub async fn page(State(shared): State<Shared>) -> Response {
    match shared.engine.ask(Request::Desk { upcoming: crate::control::view::DEFAULT_UPCOMING }).await {
        Ok(answer) => match &answer.desk {
            Some(view) => Html(shared.pages.desk(&Page::new(view, &answer, None))).into_response(),
            None => (StatusCode::SERVICE_UNAVAILABLE, answer.error.unwrap_or_else(|| "no view".into())).into_response(),
        },
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}
