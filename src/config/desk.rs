//! `[desk]`: the live desk, a web page `loudhailer run` serves for running the event from a
//! phone: whether it runs, where it listens, and how it is kept private (TLS, or an explicit
//! choice of plain HTTP off this machine). Checked like the rest of the config.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::Problems;
use super::values::S;

/// Where the desk listens when `[desk] listen` is not given: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7777";

/// `[desk]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDesk {
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `"127.0.0.1:7777"`, `"0.0.0.0:8443"`, `"[::]:8443"`.
    #[serde(default)]
    pub listen: Option<S<String>>,
    /// `"self-signed"`: a certificate made on first start and kept in the state dir.
    #[serde(default)]
    pub tls: Option<S<String>>,
    /// A PEM certificate chain and its private key, instead of a self-signed certificate.
    #[serde(default)]
    pub cert: Option<S<String>>,
    #[serde(default)]
    pub key: Option<S<String>>,
    /// Plain HTTP on an address other than loopback: only when asked for by name.
    #[serde(default)]
    pub insecure_http: Option<bool>,
    /// The address the phone opens (`https://desk.example:8443`), when it is not the one
    /// listened on (a listen on 0.0.0.0, a port forwarded, a name in DNS).
    #[serde(default)]
    pub url: Option<S<String>>,
}

/// How the desk's connections are encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskTls {
    /// Plain HTTP: on loopback, or off it with `insecure_http = true`.
    Off,
    /// A certificate made on first start, kept in the state dir; its fingerprint is printed.
    SelfSigned,
    /// The certificate chain and key in these PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

/// The desk's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desk {
    pub enabled: bool,
    pub listen: SocketAddr,
    pub tls: DeskTls,
    /// Plain HTTP off loopback was asked for (`insecure_http = true`): warned about at every start.
    pub insecure_http: bool,
    /// The base address printed in sign-in links, when given.
    pub url: Option<url::Url>,
}

impl Default for Desk {
    fn default() -> Self {
        Desk {
            enabled: true,
            listen: DEFAULT_LISTEN.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 7777))),
            tls: DeskTls::Off,
            insecure_http: false,
            url: None,
        }
    }
}

impl Desk {
    /// Whether the desk is reachable from other machines in plain HTTP.
    pub fn plain_off_loopback(&self) -> bool {
        self.tls == DeskTls::Off && !self.listen.ip().is_loopback()
    }
}

/// Checks `[desk]`; problems go to `p` and the defaults stand in for what was wrong.
pub(super) fn validate(raw: Option<S<RawDesk>>, base: &Path, p: &mut Problems<'_>) -> Desk {
    let mut desk = Desk::default();
    let Some(raw) = raw else {
        return desk;
    };
    let span = raw.span();
    let raw = raw.into_inner();
    desk.enabled = raw.enabled.unwrap_or(true);
    desk.insecure_http = raw.insecure_http.unwrap_or(false);
    if let Some(listen) = &raw.listen {
        match listen.get_ref().trim().parse::<SocketAddr>() {
            Ok(addr) => desk.listen = addr,
            Err(_) => p.at(
                listen.span(),
                "desk.listen",
                format!(
                    "{:?}: expected an address and port such as \"127.0.0.1:7777\" or \"0.0.0.0:8443\"",
                    listen.get_ref()
                ),
            ),
        }
    }
    let file = |v: &S<String>| {
        let path = PathBuf::from(v.get_ref().trim());
        if path.is_relative() {
            base.join(path)
        } else {
            path
        }
    };
    desk.tls = match (&raw.tls, &raw.cert, &raw.key) {
        (None, None, None) => DeskTls::Off,
        (Some(t), None, None) if t.get_ref().trim() == "self-signed" => DeskTls::SelfSigned,
        (Some(t), None, None) => {
            p.at(
                t.span(),
                "desk.tls",
                format!("{:?}: expected \"self-signed\" (or give cert and key files instead)", t.get_ref()),
            );
            DeskTls::Off
        }
        (None, Some(cert), Some(key)) => DeskTls::Files { cert: file(cert), key: file(key) },
        (Some(t), _, _) => {
            p.at(t.span(), "desk.tls", "give either tls = \"self-signed\" or cert and key files, not both");
            DeskTls::Off
        }
        (None, Some(c), None) => {
            p.at(c.span(), "desk.cert", "a certificate needs its private key: add key = \"path/to/key.pem\"");
            DeskTls::Off
        }
        (None, None, Some(k)) => {
            p.at(k.span(), "desk.key", "a private key needs its certificate: add cert = \"path/to/cert.pem\"");
            DeskTls::Off
        }
    };
    if let Some(u) = &raw.url {
        match url::Url::parse(u.get_ref().trim()) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
                let tls_on = desk.tls != DeskTls::Off;
                if tls_on && parsed.scheme() == "http" {
                    p.at(u.span(), "desk.url", "the desk speaks HTTPS only when TLS is on: use an https:// address");
                }
                desk.url = Some(parsed);
            }
            _ => p.at(
                u.span(),
                "desk.url",
                format!("{:?}: expected an address such as \"https://desk.example:8443\"", u.get_ref()),
            ),
        }
    }
    if desk.enabled && desk.plain_off_loopback() && !desk.insecure_http {
        p.at(
            span,
            "desk.listen",
            format!(
                "the desk would listen on {} in plain HTTP, where anyone on the network could read its sign-in and cookies: add tls = \"self-signed\" (or cert and key files), listen on 127.0.0.1, or, knowing the risk, insecure_http = true",
                desk.listen
            ),
        );
    }
    desk
}
