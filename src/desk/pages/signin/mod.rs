//! `GET /signin`: the page a sign-in link opens (its secret stays after `#`, in the browser);
//! `POST /signin`: the page's script hands the secret over once, and gets the session cookies;
//! `POST /signout`: ends this browser's session.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, Response};
use axum::Extension;

use crate::control::Request;
use crate::desk::auth::{self, SessionDigest};
use crate::desk::{answer, Shared};

pub async fn page(State(shared): State<Shared>) -> Html<String> {
    Html(shared.pages.signin())
}

/// The one answer for a link that is wrong, used, or expired: which of them is not said.
const REFUSED: &str =
    "This sign-in link was used before, has expired, or is not one. Run `loudhailer desk` again for a new one.";

pub async fn sign_in(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !auth::same_origin(&headers, shared.tls) {
        return answer(StatusCode::FORBIDDEN, false, "refused: a sign-in from another site");
    }
    if !shared.signins.allow(peer.ip()) {
        tracing::warn!(peer = %peer.ip(), "too many desk sign-in attempts: refused for now");
        let mut r = answer(StatusCode::TOO_MANY_REQUESTS, false, "Too many sign-in attempts: wait a minute.");
        r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        return r;
    }
    // The body is {"token": "…"}; anything else is refused without echoing it.
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string))
        .filter(|t| auth::is_secret_shaped(t));
    let Some(token) = token else {
        tracing::info!(peer = %peer.ip(), "a desk sign-in with no usable link: refused");
        return answer(StatusCode::FORBIDDEN, false, REFUSED);
    };
    let session = auth::new_secret();
    let expires = crate::checked::saturating_after(chrono::Utc::now(), auth::SESSION_LIFETIME);
    let request = Request::DeskSignIn { link: auth::digest(&token), session: auth::digest(session.expose()), expires };
    match shared.engine.ask(request).await {
        Ok(r) if r.ok => {
            tracing::info!(peer = %peer.ip(), "a browser signed in to the desk");
            let names = auth::cookie_names(shared.tls);
            let mut response = answer(StatusCode::OK, true, "Signed in.");
            let cookies = [
                auth::set_cookie(names.session, session.expose(), auth::SESSION_LIFETIME, shared.tls, true),
                auth::set_cookie(
                    names.csrf,
                    &auth::csrf_for(session.expose()),
                    auth::SESSION_LIFETIME,
                    shared.tls,
                    false,
                ),
            ];
            for c in cookies {
                response.headers_mut().append(header::SET_COOKIE, c);
            }
            response
        }
        Ok(_) => {
            tracing::info!(peer = %peer.ip(), "a desk sign-in with a used, expired or wrong link: refused");
            answer(StatusCode::FORBIDDEN, false, REFUSED)
        }
        Err(e) => answer(StatusCode::SERVICE_UNAVAILABLE, false, e.to_string()),
    }
}

pub async fn sign_out(State(shared): State<Shared>, session: Option<Extension<SessionDigest>>) -> Response {
    if let Some(Extension(SessionDigest(d))) = session {
        if let Err(e) = shared.engine.ask(Request::DeskSignOut { session: d }).await {
            return answer(StatusCode::SERVICE_UNAVAILABLE, false, e.to_string());
        }
    }
    let names = auth::cookie_names(shared.tls);
    let mut response = answer(StatusCode::OK, true, "Signed out.");
    for name in [names.session, names.csrf] {
        let http_only = name == names.session;
        response
            .headers_mut()
            .append(header::SET_COOKIE, auth::set_cookie(name, "", std::time::Duration::ZERO, shared.tls, http_only));
    }
    response
}
