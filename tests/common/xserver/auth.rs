//! Who is asking the X test server: OAuth 1.0a signatures recomputed here (RFC 5849, its own
//! implementation, not the client's crate), OAuth 2.0 bearer tokens, and the OAuth 2.0
//! authorize page and token endpoint (not in X's OpenAPI document: checked against docs.x.com's
//! authorization-code page).

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Digest;

use super::{user_id, Answer, Grant, Incoming, State, CLIENT_ID, CLIENT_SECRET, CONSUMER_KEY, CONSUMER_SECRET, USERS};

/// The user behind a request: (user id, "OAuth" or "Bearer", OAuth 2.0 scopes).
pub(super) fn authenticate(
    st: &mut State,
    base: &str,
    req: &Incoming,
    auth: &str,
) -> Result<(String, &'static str, Vec<String>), Answer> {
    let unauthorized = || Answer::error(401, 32, "Could not authenticate you");
    if let Some(token) = auth.strip_prefix("Bearer ") {
        let grant = st.access.get(token.trim()).cloned().ok_or_else(unauthorized)?;
        if grant.expires <= Utc::now() {
            return Err(unauthorized());
        }
        return Ok((grant.user, "Bearer", grant.scopes));
    }
    let Some(params) = auth.strip_prefix("OAuth ") else {
        st.violations.push(format!("request: {} {} without Authorization", req.method, req.path));
        return Err(unauthorized());
    };
    let oauth: Vec<(String, String)> = params
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_string(), pct_decode(v.trim_matches('"'))))
        })
        .collect();
    let get = |k: &str| oauth.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (Some(key), Some(token), Some(signature), Some(nonce), Some(ts)) = (
        get("oauth_consumer_key"),
        get("oauth_token"),
        get("oauth_signature"),
        get("oauth_nonce"),
        get("oauth_timestamp"),
    ) else {
        st.violations.push(format!("request: {} {}: an OAuth header without its parameters", req.method, req.path));
        return Err(unauthorized());
    };
    if get("oauth_signature_method").as_deref() != Some("HMAC-SHA1") {
        st.violations.push("request: OAuth 1.0a signature method is not HMAC-SHA1".into());
    }
    let Some(user) = USERS.iter().find(|u| u.2 == token) else { return Err(unauthorized()) };
    let secret = if key == CONSUMER_KEY { CONSUMER_SECRET } else { "" };
    let host = req.header("host").unwrap_or_else(|| base.trim_start_matches("http://"));
    let base_uri = format!("http://{host}{}", req.path);
    let mut params: Vec<(String, String)> =
        oauth.iter().filter(|(k, _)| k != "oauth_signature" && k != "realm").cloned().collect();
    params.extend(req.query.iter().cloned());
    if req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        params.extend(req.form());
    }
    let expected = sign_hmac_sha1(&req.method, &base_uri, &params, secret, user.3);
    if expected != signature {
        st.bad_signatures += 1;
        return Err(unauthorized());
    }
    let age = ts.parse::<i64>().map(|t| (Utc::now().timestamp() - t).abs()).unwrap_or(i64::MAX);
    if age > 300 {
        st.violations.push(format!("request: OAuth timestamp {ts} is {age} s away from now"));
        return Err(unauthorized());
    }
    if !st.nonces.insert(nonce.clone()) {
        st.violations.push(format!("request: OAuth nonce {nonce:?} used twice"));
        return Err(unauthorized());
    }
    st.good_signatures += 1;
    Ok((user.1.to_string(), "OAuth", Vec::new()))
}

/// RFC 5849 §3.4: the signature base string and its HMAC-SHA1, base64.
pub fn sign_hmac_sha1(
    method: &str,
    base_uri: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    encoded.sort();
    let normalized = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let base = format!("{}&{}&{}", method.to_ascii_uppercase(), pct(base_uri), pct(&normalized));
    let key = format!("{}&{}", pct(consumer_secret), pct(token_secret));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pct_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `GET /i/oauth2/authorize`: the person (always ada_delegate here) allows access; the browser
/// is sent to the redirect address with a code.
pub(super) fn authorize(st: &mut State, req: &Incoming) -> Answer {
    let q = |k: &str| req.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut problems = Vec::new();
    for (k, want) in
        [("response_type", Some("code")), ("client_id", Some(CLIENT_ID)), ("code_challenge_method", Some("S256"))]
    {
        if q(k).as_deref() != want {
            problems.push(format!("authorize: {k} is {:?}, not {want:?}", q(k)));
        }
    }
    let scopes = q("scope").unwrap_or_default();
    for needed in ["tweet.read", "tweet.write", "users.read", "offline.access"] {
        if !scopes.split(' ').any(|s| s == needed) {
            problems.push(format!("authorize: scope {scopes:?} lacks {needed}"));
        }
    }
    let (Some(redirect), Some(state), Some(challenge)) = (q("redirect_uri"), q("state"), q("code_challenge")) else {
        problems.push("authorize: redirect_uri, state and code_challenge are required".into());
        st.violations.extend(problems);
        return Answer::json(400, json!({ "error": "invalid_request" }));
    };
    st.violations.extend(problems);
    let code = format!("code-{}", st.new_id());
    st.codes.insert(code.clone(), (challenge, redirect.clone(), user_id("ada_delegate").to_string()));
    let mut location = url::Url::parse(&redirect).expect("a redirect URL");
    location.query_pairs_mut().append_pair("state", &state).append_pair("code", &code);
    Answer {
        status: 302,
        body: Value::Null,
        content_type: "text/plain",
        headers: vec![("location".into(), location.to_string())],
    }
}

/// `POST /2/oauth2/token`: codes (with the PKCE verifier) and refresh tokens for new pairs.
pub(super) fn token(st: &mut State, req: &Incoming) -> Answer {
    let invalid = |d: &str| Answer::json(400, json!({ "error": "invalid_request", "error_description": d }));
    if !req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        st.violations.push("token: the body is not application/x-www-form-urlencoded".into());
        return invalid("Missing required parameter [grant_type].");
    }
    let form = req.form();
    let f = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    // A confidential client authenticates with Basic auth.
    let basic = req.header("authorization").and_then(|a| a.strip_prefix("Basic ")).map(|b| {
        let raw = base64::engine::general_purpose::STANDARD.decode(b.trim()).unwrap_or_default();
        String::from_utf8_lossy(&raw).into_owned()
    });
    match basic {
        Some(pair) if pair != format!("{CLIENT_ID}:{CLIENT_SECRET}") => {
            return Answer::json(
                401,
                json!({ "error": "unauthorized_client", "error_description": "Missing valid authorization header" }),
            )
        }
        None if f("client_id").as_deref() != Some(CLIENT_ID) => {
            return invalid("Missing required parameter [client_id].")
        }
        _ => {}
    }
    let (user, scopes) = match f("grant_type").as_deref() {
        Some("authorization_code") => {
            let Some((challenge, redirect, user)) = f("code").and_then(|c| st.codes.remove(&c)) else {
                return invalid("Value passed for the authorization code was invalid.");
            };
            if f("redirect_uri") != Some(redirect) {
                st.violations.push("token: redirect_uri differs from the authorize request's".into());
                return invalid("Value passed for the redirect uri did not match the uri of the authorization code.");
            }
            let verifier = f("code_verifier").unwrap_or_default();
            let computed =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
            if computed != challenge {
                st.violations.push("token: the PKCE code_verifier does not match the code_challenge".into());
                return invalid("Value passed for the code verifier did not match the code challenge.");
            }
            (user, vec!["tweet.read".into(), "tweet.write".into(), "users.read".into(), "offline.access".into()])
        }
        Some("refresh_token") => {
            let token = f("refresh_token").unwrap_or_default();
            match st.refresh.get_mut(&token) {
                Some((_, _, used)) if *used => {
                    st.violations
                        .push("token: a refresh token was used twice (X's refresh tokens are single-use)".into());
                    return invalid("Value passed for the token was invalid.");
                }
                Some((user, scopes, used)) => {
                    *used = true;
                    st.refreshes += 1;
                    (user.clone(), scopes.clone())
                }
                None => return invalid("Value passed for the token was invalid."),
            }
        }
        other => return invalid(&format!("Unsupported grant_type {other:?}")),
    };
    let access = format!("at-{}", st.new_id());
    let refresh = format!("rt-{}", st.new_id());
    let expires = Utc::now() + chrono::Duration::seconds(st.token_lifetime);
    st.access.insert(access.clone(), Grant { user: user.clone(), scopes: scopes.clone(), expires });
    st.refresh.insert(refresh.clone(), (user, scopes.clone(), false));
    Answer::json(
        200,
        json!({
            "token_type": "bearer",
            "expires_in": st.token_lifetime,
            "access_token": access,
            "scope": scopes.join(" "),
            "refresh_token": refresh,
        }),
    )
}
