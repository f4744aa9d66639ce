use axum::http::{header, HeaderMap, HeaderValue};

use super::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn secrets_are_random_and_only_their_digests_and_tokens_derive_from_them() {
    let (a, b) = (new_secret(), new_secret());
    assert_ne!(a, b);
    assert!(is_secret_shaped(a.expose()) && is_secret_shaped(b.expose()));
    assert!(!is_secret_shaped("short") && !is_secret_shaped(&"a".repeat(42)) && !is_secret_shaped(&"+".repeat(43)));
    let d = digest(a.expose());
    assert_eq!(d.len(), 64);
    assert_ne!(d, digest(b.expose()));
    assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    let csrf = csrf_for(a.expose());
    assert_ne!(csrf, d, "the CSRF token is not the stored digest");
    assert_ne!(csrf, csrf_for(b.expose()));
    assert!(!csrf.contains(a.expose()));
}

#[test]
fn cookies_are_read_by_name_and_set_strict_and_http_only() {
    let h = headers(&[("cookie", "other=1; lh_desk=abc"), ("cookie", "lh_csrf=def")]);
    assert_eq!(read_cookie(&h, "lh_desk").as_deref(), Some("abc"));
    assert_eq!(read_cookie(&h, "lh_csrf").as_deref(), Some("def"));
    assert_eq!(read_cookie(&h, "lh"), None);
    let c = set_cookie("__Host-lh_desk", "v", SESSION_LIFETIME, true, true);
    assert_eq!(c.to_str().unwrap(), "__Host-lh_desk=v; Path=/; SameSite=Strict; Max-Age=259200; HttpOnly; Secure");
    let c = set_cookie("lh_csrf", "v", SESSION_LIFETIME, false, false);
    assert_eq!(c.to_str().unwrap(), "lh_csrf=v; Path=/; SameSite=Strict; Max-Age=259200");
    assert_eq!(cookie_names(true).session, "__Host-lh_desk");
    assert_eq!(cookie_names(false).csrf, "lh_csrf");
}

#[test]
fn only_the_desks_own_origin_may_change_anything() {
    let host = ("host", "127.0.0.1:7777");
    assert!(same_origin(&headers(&[host]), false), "no Origin: not a browser's cross-site request");
    assert!(same_origin(&headers(&[host, ("origin", "http://127.0.0.1:7777")]), false));
    assert!(!same_origin(&headers(&[host, ("origin", "https://127.0.0.1:7777")]), false));
    assert!(same_origin(&headers(&[host, ("origin", "https://127.0.0.1:7777")]), true));
    assert!(!same_origin(&headers(&[host, ("origin", "http://evil.example")]), false));
    assert!(!same_origin(&headers(&[host, ("sec-fetch-site", "cross-site")]), false));
    assert!(!same_origin(&headers(&[("origin", "http://127.0.0.1:7777")]), false), "no Host to compare with");
    let _ = header::ORIGIN;
}

#[test]
fn sign_ins_are_limited_per_address_and_in_all() {
    let limit = SignInLimit::new();
    let a: IpAddr = "192.0.2.1".parse().unwrap();
    let b: IpAddr = "192.0.2.2".parse().unwrap();
    for _ in 0..SIGN_INS_PER_ADDRESS {
        assert!(limit.allow(a));
    }
    assert!(!limit.allow(a), "one too many from one address");
    assert!(limit.allow(b), "another address still may");
    let mut allowed = SIGN_INS_PER_ADDRESS + 1;
    for i in 3..=250u8 {
        if limit.allow(IpAddr::from([192, 0, 2, i])) {
            allowed += 1;
        }
    }
    assert_eq!(allowed, SIGN_INS_IN_ALL, "at most this many a minute from everywhere");
}
