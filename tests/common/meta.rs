//! What the Facebook Pages and Threads test servers share, both being Meta Graph APIs: the error
//! shape, throttling answers with `X-Business-Use-Case-Usage`, the faults, where the access token
//! and parameters come from, and Graph's time format.
//!
//! Sources: Graph API "Handling Errors"
//! (https://developers.facebook.com/docs/graph-api/guides/error-handling): the body
//! `{"error": {message, type, code, error_subcode, error_user_title, error_user_msg, fbtrace_id}}`,
//! 190 expired token, 4 and 17 throttling, 368 blocked for policy, 506 duplicate post. Graph API
//! "Rate Limits" (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/): codes
//! 4 (app), 17 (user), 32 (Page with a user token), 613 (custom), 80001 (Pages, Business Use
//! Case), and the `X-Business-Use-Case-Usage` header, `{object-id: [{type, call_count,
//! total_cputime, total_time, estimated_time_to_regain_access}]}` (minutes).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{json, Value};

use super::loopback::{Answer, Incoming};

/// What a fault does on a Meta server.
#[derive(Debug, Clone)]
pub enum Effect {
    /// A throttling error with this code (4, 17, 32, 613 or 80001); with
    /// `X-Business-Use-Case-Usage` giving `estimated_time_to_regain_access` in minutes when
    /// `regain_minutes` is set, without that header otherwise.
    Throttle { code: i64, regain_minutes: Option<u64> },
    /// This HTTP status with a Graph error body (code 2, "service temporarily unavailable", for
    /// 5xx; code 1 otherwise).
    Status(u16),
    /// Code 190, subcode 463: the session has expired.
    ExpiredToken,
    /// Code 368: temporarily blocked for policy violations.
    Blocked,
    /// Wait, then answer as usual.
    Delay(Duration),
    /// Do the work, then lose the answer (the client sees a transport error).
    LoseAnswer,
}

/// A Graph API error answer; `fbtrace_id` is fresh each time.
pub fn error(status: u16, code: i64, subcode: Option<i64>, kind: &str, message: &str) -> Answer {
    let mut e = json!({ "message": message, "type": kind, "code": code, "fbtrace_id": fbtrace_id() });
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    Answer::json(status, json!({ "error": e }))
}

fn fbtrace_id() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..11).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

/// The message Graph gives each throttling code (Rate Limits page, error codes tables).
pub fn throttle_message(code: i64) -> &'static str {
    match code {
        4 => "(#4) Application request limit reached",
        17 => "(#17) User request limit reached",
        32 => "(#32) Page request limit reached",
        613 => "(#613) Calls to this api have exceeded the rate limit.",
        80001 => "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        _ => "Rate limit reached",
    }
}

/// A throttling answer for `object_id` (the Page or Threads user whose quota ran out).
pub fn throttled(code: i64, regain_minutes: Option<u64>, object_id: &str, usage_type: &str) -> Answer {
    let mut a = error(400, code, None, "OAuthException", throttle_message(code));
    if let Some(minutes) = regain_minutes {
        let usage = json!({ object_id: [{
            "type": usage_type,
            "call_count": 100,
            "total_cputime": 100,
            "total_time": 100,
            "estimated_time_to_regain_access": minutes,
        }]});
        a = a.with_header("X-Business-Use-Case-Usage", &usage.to_string());
    }
    a
}

/// The answer a fault gives before any work, if it gives one; `lose` is set for
/// [`Effect::LoseAnswer`], and a delay is slept here.
pub fn fault_answer(effect: Option<Effect>, object_id: &str, usage_type: &str, lose: &mut bool) -> Option<Answer> {
    match effect? {
        Effect::Throttle { code, regain_minutes } => Some(throttled(code, regain_minutes, object_id, usage_type)),
        Effect::Status(s) if s >= 500 => Some(error(
            s,
            2,
            None,
            "OAuthException",
            "An unexpected error has occurred. Please retry your request later.",
        )),
        Effect::Status(s) => Some(error(s, 1, None, "OAuthException", "Injected failure")),
        Effect::ExpiredToken => Some(error(
            400,
            190,
            Some(463),
            "OAuthException",
            "Error validating access token: Session has expired on a day in the past.",
        )),
        Effect::Blocked => Some(error(
            400,
            368,
            None,
            "OAuthException",
            "It looks like you were misusing this feature by going too fast. You've been blocked from using it.",
        )),
        Effect::Delay(d) => {
            std::thread::sleep(d);
            None
        }
        Effect::LoseAnswer => {
            *lose = true;
            None
        }
    }
}

/// Where a parameter came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Query,
    Form,
    Json,
}

/// The request's parameters: the query, a form body and a JSON body's top level all count, as
/// Graph reads them all. A JSON value that is not a string is kept as its JSON text.
pub fn params(req: &Incoming) -> Vec<(String, Value, From)> {
    let mut out: Vec<(String, Value, From)> =
        req.query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()), From::Query)).collect();
    out.extend(req.form().into_iter().map(|(k, v)| (k, Value::String(v), From::Form)));
    if req.content_type().as_deref() == Some("application/json") {
        if let Ok(Value::Object(map)) = req.json() {
            out.extend(map.into_iter().map(|(k, v)| (k, v, From::Json)));
        }
    }
    out
}

/// A parameter's value as text (a JSON string unquoted, anything else as JSON).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The access token: `Authorization: Bearer …` (or `OAuth …`), or an `access_token` parameter.
pub fn access_token(req: &Incoming) -> Option<String> {
    let header =
        req.header("authorization").and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("OAuth ")));
    header
        .map(|h| h.trim().to_string())
        .or_else(|| params(req).into_iter().find(|(k, _, _)| k == "access_token").map(|(_, v, _)| text(&v)))
}

/// Graph's timestamps: `2026-12-06T10:00:00+0000`.
pub fn graph_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

/// Splits a `fields` value at top-level commas (not inside `( )` or `{ }`), and each item into its
/// name and the rest (`reactions.summary(total_count)` → `reactions`, `.summary(total_count)`).
pub fn fields(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut item = String::new();
    for c in value.chars().chain(std::iter::once(',')) {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            let t = item.trim();
            if !t.is_empty() {
                let end = t.find(['.', '{', '(']).unwrap_or(t.len());
                out.push((t[..end].to_string(), t[end..].to_string()));
            }
            item.clear();
        } else {
            item.push(c);
        }
    }
    out
}
