//! The rules every LinkedIn request is held to, each with its source in NOTES.md (and the LinkedIn
//! page or code that note cites): headers and versions, the token and its scopes, URN forms and
//! their encoding, the post body's shape. A broken rule is both the answer and a recorded mistake.

use chrono::Utc;
use serde_json::{json, Value};

use super::super::loopback::{Answer, Incoming};
use super::{member_by_id, State, Token, MEMBERS, ORG_ID};

/// A LinkedIn error answer (NOTES §0 "Error body": `{message, serviceErrorCode, status}`, a
/// string `code` seen since 2024; `X-RestLi-Error-Response: true`, RESTLI).
pub fn error(status: u16, message: &str, service: Option<i64>, code: Option<&str>) -> Answer {
    let mut body = json!({ "message": message, "status": status });
    if let Some(s) = service {
        body["serviceErrorCode"] = json!(s);
    }
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    Answer::json(status, body).with_header("X-RestLi-Error-Response", "true")
}

/// A 422 validation failure (NOTES §0 "Validation errors", Arisamiga/Linkedin-RSS#5).
pub fn invalid(field: &str, code: &str, description: &str) -> Answer {
    let body = json!({
        "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": description,
        "errorDetails": { "inputErrors": [{
            "description": description,
            "input": { "inputPath": { "fieldPath": field } },
            "code": code,
        }]},
        "status": 422,
    });
    Answer::json(422, body).with_header("X-RestLi-Error-Response", "true")
}

/// Records `rule` as the client's mistake and answers `status` naming it.
pub fn refuse(st: &mut State, req: &Incoming, status: u16, rule: &str) -> Answer {
    st.mistakes.push(req, rule);
    let code = match status {
        403 => Some("ACCESS_DENIED"),
        404 => Some("NOT_FOUND"),
        _ => None,
    };
    error(status, rule, (status == 403).then_some(100), code)
}

/// The live token behind `Authorization: Bearer …` (NOTES §0 "Authorization": any other scheme,
/// or none, gives 401; §1 errors: 65600 invalid or expired, 65601 revoked).
pub fn token(st: &mut State, req: &Incoming) -> Result<Token, Answer> {
    let Some(value) = req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")) else {
        let rule = "no `Authorization: Bearer <token>` header (NOTES §0 Authorization; L-ERR)";
        st.mistakes.push(req, rule);
        return Err(error(401, rule, Some(65600), None));
    };
    let Some(t) = st.tokens.iter().find(|t| t.access == value.trim()).cloned() else {
        let rule = "an access token this server never issued (NOTES §0 Authorization; L-ERR)";
        st.mistakes.push(req, rule);
        return Err(error(401, "Invalid access token", Some(65600), None));
    };
    if t.revoked {
        return Err(error(
            401,
            "The token used in the request has been revoked by the user",
            Some(65601),
            Some("REVOKED_ACCESS_TOKEN"),
        ));
    }
    if t.expires <= Utc::now() {
        return Err(error(401, "Invalid access token", Some(65600), Some("EXPIRED_ACCESS_TOKEN")));
    }
    Ok(t)
}

/// `LinkedIn-Version` and `X-Restli-Protocol-Version` on every `/rest/` call (NOTES §0).
pub fn versions(st: &mut State, req: &Incoming) -> Result<(), Answer> {
    let Some(v) = req.header("linkedin-version") else {
        let rule = "no `LinkedIn-Version` header; every /rest/ call needs one, YYYYMM (NOTES §0, L-VER, L-POSTS)";
        return Err(refuse(st, req, 400, rule));
    };
    let month = v.split('.').next().unwrap_or_default();
    let release_ok = v.split_once('.').is_none_or(|(_, r)| r.len() == 2 && r.chars().all(|c| c.is_ascii_digit()));
    let Some(n) = (month.len() == 6 && release_ok).then(|| month.parse::<u32>().ok()).flatten() else {
        let rule = format!("`LinkedIn-Version: {v}` is not YYYYMM or YYYYMM.RR (NOTES §0, L-VER, LI-PY api.py)");
        return Err(refuse(st, req, 400, &rule));
    };
    if n < st.versions.0 || n > st.versions.1 || n % 100 == 0 || n % 100 > 12 {
        // NOTES §0 "Inactive or unknown version": 426 NONEXISTENT_VERSION, the version as 8 digits.
        let rule = format!(
            "`LinkedIn-Version: {v}` is not an active version (active here: {} to {}; NOTES §0, L-VER)",
            st.versions.0, st.versions.1
        );
        st.mistakes.push(req, &rule);
        let message = format!("Requested version {n}01 is not active");
        return Err(error(426, &message, None, Some("NONEXISTENT_VERSION")));
    }
    match req.header("x-restli-protocol-version") {
        Some("2.0.0") => Ok(()),
        Some(other) => {
            let rule = format!("`X-Restli-Protocol-Version: {other}`; it must be 2.0.0 (NOTES §0, L-PROTO)");
            Err(refuse(st, req, 400, &rule))
        }
        None => {
            let rule = "no `X-Restli-Protocol-Version: 2.0.0` header; without it LinkedIn falls back to protocol 1.0 (NOTES §0, L-PROTO)";
            Err(refuse(st, req, 400, rule))
        }
    }
}

/// `X-RestLi-Method`, when sent, must name the method; on DELETE it is required here (NOTES §4:
/// LinkedIn's own client always sends `DELETE`; RESTLI says a server may infer it, so this server
/// is stricter than LinkedIn may be, at no cost to a client).
pub fn restli_method(st: &mut State, req: &Incoming, want: &str) -> Result<(), Answer> {
    match req.header("x-restli-method") {
        Some(m) if m.eq_ignore_ascii_case(want) => Ok(()),
        Some(m) => {
            let rule = format!("`X-RestLi-Method: {m}` on a {want} (NOTES §0 X-RestLi-Method, RESTLI)");
            Err(refuse(st, req, 400, &rule))
        }
        None if want == "delete" => {
            let rule = "a delete without `X-RestLi-Method: DELETE` (NOTES §4, LI-PY client.py `delete`)";
            Err(refuse(st, req, 400, rule))
        }
        None => Ok(()),
    }
}

/// The JSON body of a create (NOTES §0 Content-Type: `application/json`).
pub fn json_body(st: &mut State, req: &Incoming) -> Result<Value, Answer> {
    if req.content_type().as_deref() != Some("application/json") {
        let rule =
            format!("a body of type {:?}; LinkedIn takes application/json (NOTES §0 Content-Type)", req.content_type());
        return Err(refuse(st, req, 400, &rule));
    }
    req.json().map_err(|e| refuse(st, req, 400, &format!("the body is not JSON: {e} (NOTES §0 Content-Type)")))
}

/// The kinds of URN a rule may ask for.
pub fn urn_kind(urn: &str) -> Option<(&str, &str)> {
    let rest = urn.strip_prefix("urn:li:")?;
    let (kind, id) = rest.split_once(':')?;
    (!id.is_empty() && !kind.is_empty()).then_some((kind, id))
}

/// A URN as a whole path segment: percent-encoded, so no literal `:`, `(`, `)` or `,`
/// (NOTES §0 "URNs in the path", L-PROTO).
pub fn path_urn(st: &mut State, req: &Incoming, raw: &str) -> Result<String, Answer> {
    if raw.contains(['(', ')', ',', ':']) {
        let rule = format!(
            "the URN in the path is not percent-encoded ({raw}); protocol 2.0 encodes the whole key: urn%3Ali%3Ashare%3A… (NOTES §0, L-PROTO)"
        );
        return Err(refuse(st, req, 400, &rule));
    }
    let urn = super::super::loopback::percent_decode(raw);
    if urn.contains('%') {
        let rule = format!("the URN in the path is encoded twice ({raw}) (NOTES §0, L-PROTO)");
        return Err(refuse(st, req, 400, &rule));
    }
    if urn_kind(&urn).is_none() {
        return Err(refuse(st, req, 400, &format!("{urn:?} is not a URN (urn:li:<type>:<id>) (NOTES §0)")));
    }
    Ok(urn)
}

/// A URN as a query value: the URN percent-encoded (`urn%3Ali%3A…`), not twice, not raw
/// (NOTES §0 "URNs in query values", L-PROTO, RESTLI).
pub fn query_urn(raw: &str) -> Result<String, String> {
    let upper = raw.to_ascii_uppercase();
    if upper.starts_with("%28") || upper.ends_with("%29") || upper.starts_with("LIST%28") {
        return Err(format!(
            "{raw}: Rest.li's own syntax ( ) , is percent-encoded; it stays literal around the encoded URN (NOTES §0 URNs in query values, L-PROTO, RESTLI)"
        ));
    }
    if raw.contains("%25") {
        return Err(format!("{raw} is encoded twice (NOTES §0 URNs in query values, L-PROTO)"));
    }
    if raw.contains(':') || !raw.contains("%3A") {
        return Err(format!(
            "{raw}: the URN in a query value must be percent-encoded, urn%3Ali%3A… (NOTES §0, L-PROTO)"
        ));
    }
    let urn = super::super::loopback::percent_decode(raw);
    urn_kind(&urn).map(|_| urn.clone()).ok_or_else(|| format!("{urn:?} is not a URN (NOTES §0)"))
}

/// `List(a,b)` with literal parentheses and commas and encoded URNs (NOTES §0, L-PROTO, RESTLI).
pub fn query_list(raw: &str) -> Result<Vec<String>, String> {
    let Some(inner) = raw.strip_prefix("List(").and_then(|r| r.strip_suffix(')')) else {
        return Err(format!(
            "{raw} is not List(…) with literal parentheses; Rest.li syntax is not encoded in a query (NOTES §0, RESTLI)"
        ));
    };
    inner.split(',').filter(|s| !s.is_empty()).map(query_urn).collect()
}

/// May the token's member act as `author` (NOTES §1 Permission: a person posts as themself with
/// `w_member_social`; an organization with `w_organization_social` and one of the page roles of
/// §0 "Permissions and products", L-POSTS)?
pub fn may_act_as(token: &Token, author: &str) -> Result<(), String> {
    let me = MEMBERS.iter().find(|m| m.0 == token.member).map(|m| m.1).unwrap_or_default();
    match urn_kind(author) {
        Some(("person", id)) => {
            if member_by_id(id).is_none() || id != me {
                return Err(format!("{author} is not the token's member (urn:li:person:{me}) (NOTES §1 author)"));
            }
            scope(token, "w_member_social", "NOTES §1 Permission, L-POSTS, L-SHARE")
        }
        Some(("organization", id)) => {
            scope(token, "w_organization_social", "NOTES §1 Permission, L-POSTS")?;
            if id != ORG_ID || token.member != MEMBERS[1].0 {
                return Err(format!(
                    "{} holds no ADMINISTRATOR, DIRECT_SPONSORED_CONTENT_POSTER or CONTENT_ADMIN role on {author} (NOTES §0 Permissions, L-POSTS)",
                    token.member
                ));
            }
            Ok(())
        }
        _ => Err(format!("{author:?} is neither urn:li:person:… nor urn:li:organization:… (NOTES §1 author)")),
    }
}

pub fn scope(token: &Token, scope: &str, source: &str) -> Result<(), String> {
    if token.scopes.iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(format!("the token lacks scope {scope} ({source}); it has {:?}", token.scopes))
    }
}

/// The fields a post body may have (NOTES §1 request body table, §2 reshare); anything else is
/// refused so that a misspelt field fails a test.
const POST_FIELDS: [&str; 8] = [
    "author",
    "commentary",
    "visibility",
    "distribution",
    "lifecycleState",
    "isReshareDisabledByAuthor",
    "content",
    "reshareContext",
];

/// Everything wrong with a post body's shape: (field path, problem).
pub fn post_shape(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(obj) = body.as_object() else {
        return vec![(String::new(), "the body is not a JSON object (NOTES §1)".into())];
    };
    for k in obj.keys() {
        if !POST_FIELDS.contains(&k.as_str()) {
            out.push((k.clone(), format!("unknown field {k:?}; a post has {POST_FIELDS:?} (NOTES §1, §2)")));
        }
    }
    let mut need_str = |f: &str| match obj.get(f) {
        Some(Value::String(_)) => {}
        Some(other) => out.push((f.into(), format!("{f} is {other}, not a string (NOTES §1)"))),
        None => out.push((f.into(), format!("required field {f} is missing (NOTES §1)"))),
    };
    for f in ["author", "commentary", "visibility", "lifecycleState"] {
        need_str(f);
    }
    let one_of = |f: &str, allowed: &[&str], out: &mut Vec<(String, String)>| {
        if let Some(v) = obj.get(f).and_then(Value::as_str) {
            if !allowed.contains(&v) {
                out.push((f.into(), format!("{f} {v:?} is not one of {allowed:?} (NOTES §1)")));
            }
        }
    };
    one_of("visibility", &["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"], &mut out);
    one_of("lifecycleState", &["PUBLISHED", "DRAFT"], &mut out);
    match obj.get("distribution") {
        None => out.push(("distribution".into(), "required field distribution is missing (NOTES §1)".into())),
        Some(Value::Object(d)) => {
            for k in d.keys() {
                if !["feedDistribution", "targetEntities", "thirdPartyDistributionChannels"].contains(&k.as_str()) {
                    out.push((format!("distribution.{k}"), format!("unknown field distribution.{k} (NOTES §1)")));
                }
            }
            match d.get("feedDistribution").and_then(Value::as_str) {
                Some("MAIN_FEED" | "NONE") => {}
                other => out.push((
                    "distribution.feedDistribution".into(),
                    format!("distribution.feedDistribution is {other:?}, not MAIN_FEED or NONE (NOTES §1)"),
                )),
            }
            for k in ["targetEntities", "thirdPartyDistributionChannels"] {
                if d.get(k).is_some_and(|v| !v.is_array()) {
                    out.push((format!("distribution.{k}"), format!("distribution.{k} is not an array (NOTES §1)")));
                }
            }
        }
        Some(other) => out.push(("distribution".into(), format!("distribution is {other}, not an object (NOTES §1)"))),
    }
    if obj.get("isReshareDisabledByAuthor").is_some_and(|v| !v.is_boolean()) {
        out.push(("isReshareDisabledByAuthor".into(), "isReshareDisabledByAuthor is not a boolean (NOTES §1)".into()));
    }
    if let Some(r) = obj.get("reshareContext") {
        match r.as_object() {
            Some(r) => {
                for k in r.keys() {
                    let problem = match k.as_str() {
                        "parent" => continue,
                        "root" => {
                            "reshareContext.root is read-only; do not send it (NOTES §2, LATE `readOnly`)".to_string()
                        }
                        other => format!("unknown field reshareContext.{other} (NOTES §2)"),
                    };
                    out.push((format!("reshareContext.{k}"), problem));
                }
                if !r.get("parent").is_some_and(Value::is_string) {
                    out.push((
                        "reshareContext.parent".into(),
                        "reshareContext.parent (a URN string) is missing (NOTES §2)".into(),
                    ));
                }
            }
            None => out.push(("reshareContext".into(), "reshareContext is not an object (NOTES §2)".into())),
        }
    }
    out
}
