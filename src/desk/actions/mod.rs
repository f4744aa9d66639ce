//! `POST /api/…`: what the desk page's buttons and its post box ask for, each turned into one
//! request on the engine's control channel. Every answer says, in words, what changed (or why
//! nothing did). The guard in [`super::auth`] has checked the session and the CSRF token first.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use minijinja::context;
use serde::Deserialize;

use super::{answer, Shared};
use crate::control::Request;

pub mod photo;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/say", post(say))
        .route("/api/snippet", post(snippet))
        .route("/api/shift", post(shift))
        .route("/api/skip", post(skip))
        .route("/api/send-next", post(send_next))
        .route("/api/approve", post(approve))
        .route("/api/pause", post(pause))
        .route("/api/resume", post(resume))
        .route("/api/retry", post(retry))
        .route("/api/preview", post(preview))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Say {
    text: String,
    #[serde(default)]
    thread: String,
    /// Made by the page for each point: a repeated tap, or a retry after a lost answer,
    /// posts once.
    key: String,
    /// Photos uploaded before (`/api/photo`), each with its alt text.
    #[serde(default)]
    photos: Vec<Photo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Photo {
    /// The name `/api/photo` answered.
    photo: String,
    alt: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    label: String,
    #[serde(default)]
    thread: String,
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    session: String,
    /// Seconds: -300, 300, 900.
    by: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    session: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approve {
    session: String,
    /// The suggestion's number, from 1.
    n: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    account: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    job: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    text: String,
}

fn thread(t: String) -> Option<String> {
    Some(t).filter(|t| !t.trim().is_empty())
}

/// Sends a request that changes something, answers with its words, and refreshes the pages.
async fn change(shared: &Shared, request: Request) -> Response {
    match shared.engine.ask(request).await {
        Ok(r) if r.ok => {
            shared.events.refresh();
            answer(StatusCode::OK, true, r.message.unwrap_or_else(|| "done".into()))
        }
        Ok(r) => answer(StatusCode::UNPROCESSABLE_ENTITY, false, r.error.unwrap_or_else(|| "refused".into())),
        Err(e) => answer(StatusCode::SERVICE_UNAVAILABLE, false, e.to_string()),
    }
}

async fn say(State(s): State<Shared>, Json(b): Json<Say>) -> Response {
    let photos: Vec<(String, String)> = b.photos.into_iter().map(|p| (p.photo, p.alt)).collect();
    let images = match photo::attached(&s.state_dir, &photos) {
        Ok(images) => images,
        Err(e) => return answer(StatusCode::UNPROCESSABLE_ENTITY, false, e),
    };
    change(&s, Request::Say { text: b.text, thread: thread(b.thread), key: Some(b.key), images }).await
}

async fn snippet(State(s): State<Shared>, Json(b): Json<Snippet>) -> Response {
    change(&s, Request::Snippet { label: b.label, thread: thread(b.thread), key: Some(b.key) }).await
}

async fn shift(State(s): State<Shared>, Json(b): Json<Shift>) -> Response {
    change(&s, Request::Shift { session: Some(b.session), by_secs: b.by }).await
}

async fn skip(State(s): State<Shared>, Json(b): Json<Session>) -> Response {
    change(&s, Request::Skip { session: b.session }).await
}

async fn send_next(State(s): State<Shared>, Json(b): Json<Session>) -> Response {
    change(&s, Request::SendNext { session: b.session }).await
}

/// Approving twice posts once: the second answer says it was already approved.
async fn approve(State(s): State<Shared>, Json(b): Json<Approve>) -> Response {
    change(&s, Request::Approve { session: b.session, n: Some(b.n) }).await
}

async fn pause(State(s): State<Shared>, Json(b): Json<Account>) -> Response {
    change(&s, Request::Pause { account: Some(b.account) }).await
}

async fn resume(State(s): State<Shared>, Json(b): Json<Account>) -> Response {
    change(&s, Request::Resume { account: Some(b.account) }).await
}

async fn retry(State(s): State<Shared>, Json(b): Json<Job>) -> Response {
    change(&s, Request::Retry { job: b.job }).await
}

/// Each network's count of the point being typed against its limit, and where it would be
/// split, measured by the same code that posts it (so the page and the post never disagree).
async fn preview(State(s): State<Shared>, Json(b): Json<Text>) -> Response {
    match s.engine.ask(Request::Preview { text: b.text }).await {
        Ok(r) => match r.preview {
            Some(lines) => {
                let lines: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|l| {
                        let counts: Vec<usize> = l.pieces.iter().map(|p| p.count).collect();
                        let over = counts.iter().any(|c| *c > l.max);
                        serde_json::json!({
                            "network": super::pages::model::network_name(l.network),
                            "account": l.account,
                            "max": l.max,
                            "count": counts.first().copied().unwrap_or(0),
                            "posts": l.pieces.len(),
                            "counts": counts,
                            "over": over,
                            "pieces": l.pieces.iter().map(|p| p.text.clone()).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                let html = s.pages.region("counts.html", &context! { lines => lines });
                (StatusCode::OK, Json(serde_json::json!({ "ok": true, "html": html }))).into_response()
            }
            None => answer(StatusCode::UNPROCESSABLE_ENTITY, false, r.error.unwrap_or_else(|| "refused".into())),
        },
        Err(e) => answer(StatusCode::SERVICE_UNAVAILABLE, false, e.to_string()),
    }
}
