//! The LinkedIn test server's reads: counts (socialMetadata, socialActions,
//! memberCreatorPostAnalytics, organizationalEntityShareStatistics) and ids (userinfo,
//! organizationAcls), NOTES.md §5 and §6.

use serde_json::{json, Value};

use super::super::loopback::{Answer, Incoming};
use super::routes::counts_of;
use super::rules::{self, refuse};
use super::{State, Token, MEMBERS, ORG_ID};

/// Refuses query parameters outside `allowed`, and repeated ones.
pub fn params(st: &mut State, req: &Incoming, allowed: &[&str]) -> Result<(), Answer> {
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &req.query {
        if !allowed.contains(&k.as_str()) {
            let rule = format!("unknown query parameter {k:?}; this endpoint takes {allowed:?} (NOTES §5-§6)");
            return Err(refuse(st, req, 400, &rule));
        }
        if seen.contains(&k.as_str()) {
            return Err(refuse(st, req, 400, &format!("query parameter {k} is repeated")));
        }
        seen.push(k);
    }
    Ok(())
}

fn raw_param(req: &Incoming, name: &str) -> Option<String> {
    req.raw_query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn one_of(
    st: &mut State,
    req: &Incoming,
    name: &str,
    allowed: &[&str],
    required: bool,
) -> Result<Option<String>, Answer> {
    match req.query(name) {
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(refuse(st, req, 400, &format!("{name}={v} is not one of {allowed:?} (NOTES §5-§6)"))),
        None if required => {
            Err(refuse(st, req, 400, &format!("required query parameter {name} is missing (NOTES §5-§6)")))
        }
        None => Ok(None),
    }
}

/// Reading a post's social data needs `r_member_social` or `r_organization_social` (NOTES §5a,
/// L-SOCIALMETA; §5b, L-NUSA).
fn social_read(st: &mut State, req: &Incoming, token: &Token, raw: &str) -> Result<String, Answer> {
    if !token.scopes.iter().any(|s| s == "r_member_social" || s == "r_organization_social") {
        let rule = format!(
            "reading social data needs r_member_social (restricted) or r_organization_social; the token has {:?} (NOTES §5a, L-SOCIALMETA)",
            token.scopes
        );
        return Err(refuse(st, req, 403, &rule));
    }
    let urn = rules::path_urn(st, req, raw)?;
    if !st.posts.iter().any(|p| p.urn == urn && !p.deleted) {
        return Err(rules::error(404, &format!("{urn} does not exist"), None, Some("NOT_FOUND")));
    }
    Ok(urn)
}

/// `GET /rest/socialActions/{urn}/comments?start&count`: the comments on a post, oldest first.
/// The Comments API lists "Get Comments on Shares" among its methods (NOTES §3, L-COMMENTS);
/// reading comments needs `r_member_social` (restricted) or `r_organization_social` (the same
/// page's permission table: "Retrieve comments"). The answer is Rest.li's collection (NOTES §0
/// "List responses", RESTLI); each element has the fields this server's create answers with
/// (`id`, `commentUrn`, `object`, `actor`, `message.text`), which clients are seen to read
/// (NOTES §3 Response; UNCONFIRMED against LinkedIn's sample).
pub fn comments(st: &mut State, req: &Incoming, token: &Token, raw: &str) -> Answer {
    if let Err(a) = params(st, req, &["start", "count"]) {
        return a;
    }
    for n in ["start", "count"] {
        if req.query(n).is_some_and(|v| v.parse::<u32>().is_err()) {
            return refuse(st, req, 400, &format!("{n} is not a whole number (RESTLI paging)"));
        }
    }
    let urn = match social_read(st, req, token, raw) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let start: usize = req.query("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let count: usize = req.query("count").and_then(|v| v.parse().ok()).unwrap_or(10);
    let all: Vec<Value> = st
        .comments
        .iter()
        .filter(|c| c.post == urn && !c.deleted)
        .map(|c| {
            json!({ "id": c.id, "commentUrn": c.urn, "object": c.post, "actor": c.actor, "message": { "text": c.raw } })
        })
        .collect();
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(start).take(count).collect();
    Answer::json(200, json!({ "elements": page, "paging": { "start": start, "count": count, "total": total } }))
}

/// `GET /rest/socialMetadata/{urn}` (NOTES §5a; the shape from LATE, UNCONFIRMED).
pub fn social_metadata(st: &mut State, req: &Incoming, token: &Token, raw: &str) -> Answer {
    let urn = match social_read(st, req, token, raw) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let c = counts_of(st, &urn);
    Answer::json(
        200,
        json!({
            "entity": urn,
            "reactionSummaries": { "LIKE": { "reactionType": "LIKE", "count": c.likes } },
            "commentSummary": { "count": c.comments, "topLevelCount": c.comments },
            "commentsState": "OPEN",
        }),
    )
}

/// `GET /rest/socialActions/{urn}` (NOTES §5b; the shape from POSTIZ).
pub fn social_actions(st: &mut State, req: &Incoming, token: &Token, raw: &str) -> Answer {
    let urn = match social_read(st, req, token, raw) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let c = counts_of(st, &urn);
    Answer::json(
        200,
        json!({
            "likesSummary": { "totalLikes": c.likes, "likedByCurrentUser": false },
            "commentsSummary": { "totalFirstLevelComments": c.comments, "commentsState": "OPEN" },
        }),
    )
}

/// `GET /rest/memberCreatorPostAnalytics` (NOTES §5c, L-MEMBERSTATS).
pub fn member_analytics(st: &mut State, req: &Incoming, token: &Token) -> Answer {
    if let Err(rule) = rules::scope(token, "r_member_postAnalytics", "NOTES §5c, L-MEMBERSTATS") {
        return refuse(st, req, 403, &rule);
    }
    if let Err(a) = params(st, req, &["q", "entity", "queryType", "aggregation", "dateRange"]) {
        return a;
    }
    let finder = match one_of(st, req, "q", &["entity", "me"], true) {
        Ok(q) => q.unwrap_or_default(),
        Err(a) => return a,
    };
    let kinds = ["IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT", "POST_SAVE"];
    let kind = match one_of(st, req, "queryType", &kinds, true) {
        Ok(k) => k.unwrap_or_default(),
        Err(a) => return a,
    };
    if let Err(a) = one_of(st, req, "aggregation", &["DAILY", "TOTAL"], true) {
        return a;
    }
    let me = format!("urn:li:person:{}", MEMBERS.iter().find(|m| m.0 == token.member).map(|m| m.1).unwrap_or_default());
    let urns: Vec<String> = if finder == "entity" {
        let Some(raw) = raw_param(req, "entity") else {
            return refuse(st, req, 400, "q=entity needs entity=(share:{encoded URN}) (NOTES §5c)");
        };
        // NOTES §5c: most clients send a Rest.li union, (share:…) or (ugc:…); OpenPost the bare
        // encoded URN; which LinkedIn takes is UNCONFIRMED, so both are.
        let inner = match raw.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            Some(u) => match u.split_once(':') {
                Some(("share", v)) | Some(("ugc", v)) => v.to_string(),
                _ => return refuse(st, req, 400, &format!("entity={raw}: the union key is share or ugc (NOTES §5c)")),
            },
            None => raw.clone(),
        };
        let urn = match rules::query_urn(&inner) {
            Ok(u) => u,
            Err(rule) => return refuse(st, req, 400, &rule),
        };
        if !matches!(rules::urn_kind(&urn), Some(("share" | "ugcPost", _))) {
            return refuse(
                st,
                req,
                400,
                &format!("entity {urn} is not a share or ugcPost URN (NOTES §5c, L-MEMBERSTATS)"),
            );
        }
        match st.posts.iter().find(|p| p.urn == urn) {
            Some(p) if p.author != me => {
                return refuse(st, req, 403, &format!("{urn} is not a post of the token's member {me} (NOTES §5c)"))
            }
            Some(_) => vec![urn],
            None => return rules::error(404, &format!("{urn} does not exist"), None, Some("NOT_FOUND")),
        }
    } else {
        st.posts.iter().filter(|p| p.author == me && !p.deleted).map(|p| p.urn.clone()).collect()
    };
    let count: u64 = urns
        .iter()
        .map(|u| {
            let c = counts_of(st, u);
            match kind.as_str() {
                "IMPRESSION" => c.impressions,
                "MEMBERS_REACHED" => c.unique_impressions,
                "RESHARE" => c.reshares,
                "REACTION" => c.likes,
                "COMMENT" => c.comments,
                _ => c.saves,
            }
        })
        .sum();
    Answer::json(200, json!({ "elements": [{ "count": count }], "paging": { "start": 0, "count": 10, "links": [] } }))
}

/// `GET /rest/organizationalEntityShareStatistics` (NOTES §5d, L-ORGSTATS).
pub fn org_statistics(st: &mut State, req: &Incoming, token: &Token) -> Answer {
    let admin = token.member == MEMBERS[1].0;
    if let Err(rule) = rules::scope(token, "rw_organization_admin", "NOTES §5d, L-ORGSTATS") {
        return refuse(st, req, 403, &rule);
    }
    if let Err(a) = params(st, req, &["q", "organizationalEntity", "shares", "ugcPosts", "timeIntervals"]) {
        return a;
    }
    if let Err(a) = one_of(st, req, "q", &["organizationalEntity"], true) {
        return a;
    }
    let org = match raw_param(req, "organizationalEntity").map(|r| rules::query_urn(&r)) {
        Some(Ok(o)) => o,
        Some(Err(rule)) => return refuse(st, req, 400, &rule),
        None => return refuse(st, req, 400, "required query parameter organizationalEntity is missing (NOTES §5d)"),
    };
    if org != format!("urn:li:organization:{ORG_ID}") || !admin {
        return refuse(
            st,
            req,
            403,
            &format!("{} is not an ADMINISTRATOR of {org} (NOTES §5d, L-ORGSTATS)", token.member),
        );
    }
    let mut listed = Vec::new();
    for name in ["shares", "ugcPosts"] {
        if let Some(raw) = raw_param(req, name) {
            match rules::query_list(&raw) {
                Ok(urns) => listed.extend(urns.into_iter().map(|u| (name, u))),
                Err(rule) => return refuse(st, req, 400, &format!("{name}: {rule}")),
            }
        }
    }
    let stats = |urns: &[String]| {
        let (mut i, mut u, mut cl, mut l, mut co, mut sh) = (0, 0, 0, 0, 0, 0);
        for urn in urns {
            let c = counts_of(st, urn);
            (i, u, cl, l, co, sh) = (
                i + c.impressions,
                u + c.unique_impressions,
                cl + c.clicks,
                l + c.likes,
                co + c.comments,
                sh + c.reshares,
            );
        }
        let engagement = if i == 0 { 0.0 } else { (cl + l + co + sh) as f64 / i as f64 };
        json!({
            "impressionCount": i, "uniqueImpressionsCount": u, "clickCount": cl, "likeCount": l,
            "commentCount": co, "shareCount": sh, "engagement": engagement,
        })
    };
    let elements: Vec<Value> = if listed.is_empty() {
        let all: Vec<String> =
            st.posts.iter().filter(|p| p.author == org && !p.deleted).map(|p| p.urn.clone()).collect();
        vec![json!({ "organizationalEntity": org, "totalShareStatistics": stats(&all) })]
    } else {
        listed
            .iter()
            .map(|(name, urn)| {
                let key = if *name == "shares" { "share" } else { "ugcPost" };
                json!({ "organizationalEntity": org, key: urn, "totalShareStatistics": stats(std::slice::from_ref(urn)) })
            })
            .collect()
    };
    let n = elements.len();
    Answer::json(200, json!({ "elements": elements, "paging": { "start": 0, "count": n, "links": [] } }))
}

/// `GET /rest/organizationAcls?q=roleAssignee…` (NOTES §6c, L-ACL).
pub fn acls(st: &mut State, req: &Incoming, token: &Token) -> Answer {
    if !token.scopes.iter().any(|s| s == "rw_organization_admin" || s == "r_organization_admin") {
        let rule = format!("organizationAcls needs rw_organization_admin or r_organization_admin; the token has {:?} (NOTES §6c, L-ACL)", token.scopes);
        return refuse(st, req, 403, &rule);
    }
    if let Err(a) = params(st, req, &["q", "role", "state", "count", "start"]) {
        return a;
    }
    if let Err(a) = one_of(st, req, "q", &["roleAssignee"], true) {
        return a;
    }
    let roles = [
        "ADMINISTRATOR",
        "DIRECT_SPONSORED_CONTENT_POSTER",
        "RECRUITING_POSTER",
        "LEAD_CAPTURE_ADMINISTRATOR",
        "LEAD_GEN_FORMS_MANAGER",
        "ANALYST",
        "CURATOR",
        "CONTENT_ADMINISTRATOR",
    ];
    let role = match one_of(st, req, "role", &roles, false) {
        Ok(r) => r,
        Err(a) => return a,
    };
    let state = match one_of(st, req, "state", &["APPROVED", "REJECTED", "REQUESTED", "REVOKED"], false) {
        Ok(s) => s,
        Err(a) => return a,
    };
    for n in ["count", "start"] {
        if req.query(n).is_some_and(|v| v.parse::<u32>().is_err()) {
            return refuse(st, req, 400, &format!("{n} is not a whole number (NOTES §6c)"));
        }
    }
    let me = MEMBERS.iter().find(|m| m.0 == token.member).map(|m| m.1).unwrap_or_default();
    let mut elements = Vec::new();
    let holds = token.member == MEMBERS[1].0;
    if holds && role.as_deref().is_none_or(|r| r == "ADMINISTRATOR") && state.as_deref().is_none_or(|s| s == "APPROVED")
    {
        elements.push(json!({
            "organization": format!("urn:li:organization:{ORG_ID}"),
            "role": "ADMINISTRATOR",
            "roleAssignee": format!("urn:li:person:{me}"),
            "state": "APPROVED",
        }));
    }
    let n = elements.len();
    Answer::json(200, json!({ "elements": elements, "paging": { "start": 0, "count": 20, "total": n } }))
}

/// `GET /v2/userinfo` (NOTES §6a, L-OIDC; the 403 text from linkedin-api-js-client#35).
pub fn userinfo(st: &mut State, req: &Incoming, token: &Token) -> Answer {
    if !["openid", "profile"].iter().all(|s| token.scopes.iter().any(|t| t == s)) {
        st.mistakes.push(
            req,
            format!("userinfo needs scopes openid and profile; the token has {:?} (NOTES §6a, L-OIDC)", token.scopes),
        );
        return rules::error(
            403,
            "Not enough permissions to access: userinfo.GET.NO_VERSION",
            Some(100),
            Some("ACCESS_DENIED"),
        );
    }
    if let Err(a) = params(st, req, &[]) {
        return a;
    }
    let Some(&(username, id, name)) = MEMBERS.iter().find(|m| m.0 == token.member) else {
        return rules::error(404, "no such member", None, None);
    };
    let (given, family) = name.split_once(' ').unwrap_or((name, ""));
    let mut body = json!({
        "sub": id,
        "name": name,
        "given_name": given,
        "family_name": family,
        "picture": format!("https://media.licdn.com/dms/image/{id}"),
        "locale": "en_US",
    });
    if token.scopes.iter().any(|s| s == "email") {
        body["email"] = json!(format!("{username}@example.org"));
        body["email_verified"] = json!(true);
    }
    Answer::json(200, body)
}
