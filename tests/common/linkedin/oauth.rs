//! LinkedIn's OAuth 2.0 three-legged flow for the test server (NOTES.md §7): the authorization
//! page, the code and refresh exchanges, and introspection.

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use super::super::loopback::{Answer, Incoming};
use super::{Refresh, State, Token, CLIENT_ID, CLIENT_SECRET, MEMBERS};

/// Scopes LinkedIn names (NOTES §0 "Permissions and products", §6b).
const SCOPES: [&str; 11] = [
    "openid",
    "profile",
    "email",
    "w_member_social",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
    "r_organization_admin",
    "r_member_postAnalytics",
    "r_member_social",
    "r_basicprofile",
];

pub fn answer(st: &mut State, req: &Incoming) -> Answer {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/oauth/v2/authorization") => authorize(st, req),
        ("POST", "/oauth/v2/accessToken") => access_token(st, req),
        ("POST", "/oauth/v2/introspectToken") => introspect(st, req),
        _ => {
            st.mistakes
                .push(req, "no such OAuth endpoint (NOTES §7 lists authorization, accessToken, introspectToken)");
            oauth_error(404, "invalid_request", "no such endpoint")
        }
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> Answer {
    Answer::json(status, json!({ "error": error, "error_description": description }))
}

/// A redirect URI registered on the test app: any loopback address.
fn registered(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost")))
}

/// `GET /oauth/v2/authorization` (NOTES §7a, L-AUTHCODE, LI-PY oauth.py): the member allows
/// every scope at once and is sent back with `code` and `state`.
fn authorize(st: &mut State, req: &Incoming) -> Answer {
    let allowed = ["response_type", "client_id", "redirect_uri", "scope", "state"];
    let mut problems: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .map(|(k, _)| format!("authorization: unknown parameter {k:?} (NOTES §7a takes {allowed:?})"))
        .collect();
    if req.query("response_type") != Some("code") {
        problems.push(format!(
            "authorization: response_type is {:?}, not \"code\" (NOTES §7a)",
            req.query("response_type")
        ));
    }
    if req.query("client_id") != Some(CLIENT_ID) {
        problems.push(format!("authorization: client_id {:?} is not the app's (NOTES §7a)", req.query("client_id")));
    }
    let redirect = req.query("redirect_uri").unwrap_or_default().to_string();
    if !registered(&redirect) {
        problems.push(format!("authorization: redirect_uri {redirect:?} is not registered on the app (NOTES §7a)"));
    }
    let scope = req.query("scope").unwrap_or_default();
    if scope.contains(',') {
        problems.push(format!("authorization: scope {scope:?} is comma-separated; LinkedIn's is space-separated (NOTES §7a, LI-PY oauth.py)"));
    }
    let scopes: Vec<String> = scope.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if scopes.is_empty() {
        problems.push("authorization: no scope requested (NOTES §7a)".into());
    }
    for s in scopes.iter().filter(|s| !SCOPES.contains(&s.as_str())) {
        problems.push(format!("authorization: unknown scope {s:?} (NOTES §0 Permissions)"));
    }
    if !problems.is_empty() {
        let text = problems.join("; ");
        for p in problems {
            st.mistakes.push(req, p);
        }
        return oauth_error(400, "invalid_request", &text);
    }
    let code = format!("li-code-{}", st.ids.next());
    st.codes.insert(code.clone(), (redirect.clone(), st.login_as.clone(), scopes));
    let Ok(mut location) = url::Url::parse(&redirect) else {
        return oauth_error(400, "invalid_request", "redirect_uri is not a URL");
    };
    location.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = req.query("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    Answer::redirect(location.as_str())
}

/// The form of a token endpoint request: form-urlencoded, known fields only, the app's secret.
fn form(st: &mut State, req: &Incoming, allowed: &[&str]) -> Result<Vec<(String, String)>, Answer> {
    if req.content_type().as_deref() != Some("application/x-www-form-urlencoded") {
        let rule = "the OAuth endpoints take application/x-www-form-urlencoded (NOTES §0 Content-Type, §7b)";
        st.mistakes.push(req, rule);
        return Err(oauth_error(400, "invalid_request", rule));
    }
    if !req.query.is_empty() {
        let rule = "OAuth parameters go in the form body, not the query (NOTES §7b)";
        st.mistakes.push(req, rule);
        return Err(oauth_error(400, "invalid_request", rule));
    }
    let form = req.form();
    for (k, _) in &form {
        if !allowed.contains(&k.as_str()) {
            let rule = format!("unknown form field {k:?}; this exchange takes {allowed:?} (NOTES §7)");
            st.mistakes.push(req, &rule);
            return Err(oauth_error(400, "invalid_request", &rule));
        }
    }
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("client_id") != Some(CLIENT_ID) || get("client_secret") != Some(CLIENT_SECRET) {
        st.mistakes.push(req, "client_id or client_secret is not the app's (NOTES §7b)");
        return Err(oauth_error(401, "invalid_client", "Client authentication failed"));
    }
    Ok(form)
}

/// `POST /oauth/v2/accessToken`: a code (NOTES §7b) or a refresh token (NOTES §7c) for a token.
fn access_token(st: &mut State, req: &Incoming) -> Answer {
    let grant = req.form().into_iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v);
    match grant.as_deref() {
        Some("authorization_code") => {
            let form = match form(st, req, &["grant_type", "code", "client_id", "client_secret", "redirect_uri"]) {
                Ok(f) => f,
                Err(a) => return a,
            };
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            // NOTES §7b, the error seen in nvh95/react-linkedin-login-oauth2#26.
            let refused = "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists";
            let Some((redirect, member, scopes)) = get("code").and_then(|c| st.codes.remove(&c)) else {
                return oauth_error(400, "invalid_request", refused);
            };
            if get("redirect_uri").as_deref() != Some(redirect.as_str()) {
                st.mistakes.push(req, "redirect_uri differs from the authorization request's (NOTES §7b)");
                return oauth_error(400, "invalid_request", refused);
            }
            let refresh_expires = Utc::now() + chrono::Duration::days(365);
            grant_tokens(st, &member, &scopes, refresh_expires, None)
        }
        Some("refresh_token") => {
            let form = match form(st, req, &["grant_type", "refresh_token", "client_id", "client_secret"]) {
                Ok(f) => f,
                Err(a) => return a,
            };
            let token = form.iter().find(|(n, _)| n == "refresh_token").map(|(_, v)| v.clone()).unwrap_or_default();
            // NOTES §7c: the answer for an expired or revoked refresh token is UNCONFIRMED.
            let Some(r) = st.refresh.get(&token).cloned() else {
                return oauth_error(400, "invalid_request", "The provided refresh token is invalid");
            };
            if r.expires <= Utc::now() {
                return oauth_error(400, "invalid_request", "The provided refresh token has expired");
            }
            grant_tokens(st, &r.member, &r.scopes, r.expires, Some(token))
        }
        other => {
            let rule = format!("grant_type {other:?} is neither authorization_code nor refresh_token (NOTES §7b, §7c)");
            st.mistakes.push(req, &rule);
            oauth_error(400, "invalid_request", &rule)
        }
    }
}

/// A new access token (60 days, never past the refresh token's end: L-REFRESH) and the refresh
/// token, kept as it was (refreshing does not extend it).
fn grant_tokens(
    st: &mut State,
    member: &str,
    scopes: &[String],
    refresh_expires: DateTime<Utc>,
    refresh: Option<String>,
) -> Answer {
    let now = Utc::now();
    let access = format!("li-at-{}", st.ids.next());
    let expires = (now + chrono::Duration::seconds(st.token_lifetime)).min(refresh_expires);
    st.tokens.push(Token {
        access: access.clone(),
        member: member.into(),
        scopes: scopes.to_vec(),
        issued: now,
        expires,
        revoked: false,
    });
    let mut body = json!({
        "access_token": access,
        "expires_in": (expires - now).num_seconds(),
        // LI-PY auth/response.py: comma-separated.
        "scope": scopes.join(","),
    });
    if st.refresh_enabled {
        let token = refresh.unwrap_or_else(|| format!("li-rt-{}", st.ids.next()));
        st.refresh.insert(
            token.clone(),
            Refresh { member: member.into(), scopes: scopes.to_vec(), expires: refresh_expires },
        );
        body["refresh_token"] = json!(token);
        body["refresh_token_expires_in"] = json!((refresh_expires - now).num_seconds());
    }
    if scopes.iter().any(|s| s == "openid") {
        body["id_token"] = json!(id_token(member, now));
    }
    Answer::json(200, body)
}

/// An ID token shaped as a JWT (L-OIDC); signed with HS256 and the app secret, which is enough
/// for a test (LinkedIn signs with its own key).
fn id_token(member: &str, now: DateTime<Utc>) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let (_, id, name) = MEMBERS.iter().copied().find(|m| m.0 == member).unwrap_or(("", "", ""));
    let header = b64(&json!({ "alg": "HS256", "typ": "JWT" }));
    let claims = b64(&json!({
        "iss": "https://www.linkedin.com/oauth",
        "aud": CLIENT_ID,
        "sub": id,
        "name": name,
        "iat": now.timestamp(),
        "exp": now.timestamp() + 3600,
    }));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("any key length");
    mac.update(format!("{header}.{claims}").as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{claims}.{sig}")
}

/// `POST /oauth/v2/introspectToken` (NOTES §7d, LI-PY `IntrospectTokenResponse`).
fn introspect(st: &mut State, req: &Incoming) -> Answer {
    let form = match form(st, req, &["token", "client_id", "client_secret"]) {
        Ok(f) => f,
        Err(a) => return a,
    };
    let token = form.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone()).unwrap_or_default();
    let Some(t) = st.tokens.iter().find(|t| t.access == token) else {
        return Answer::json(200, json!({ "active": false }));
    };
    let status = if t.revoked {
        "revoked"
    } else if t.expires <= Utc::now() {
        "expired"
    } else {
        "active"
    };
    Answer::json(
        200,
        json!({
            "active": status == "active",
            "auth_type": "3L",
            "authorized_at": t.issued.timestamp(),
            "client_id": CLIENT_ID,
            "created_at": t.issued.timestamp(),
            "expires_at": t.expires.timestamp(),
            "scope": t.scopes.join(","),
            "status": status,
        }),
    )
}
