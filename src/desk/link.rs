//! The address a phone opens: the desk's own, written into the state dir when it starts (so
//! `loudhailer desk` prints what the running daemon really listens on, port 0 included), or
//! worked out from the config when no daemon runs.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Desk, DeskTls};

/// The file in the state dir a running desk describes itself in.
pub const ADDRESS_FILE: &str = "desk.json";

/// Where a running desk answers, and its certificate's fingerprint under TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub url: url::Url,
    pub fingerprint: Option<String>,
}

/// The desk's base address: `[desk] url` when given; else the address listened on, with one
/// of this machine's own addresses when it listens on all of them.
pub fn base_url(desk: &Desk, local: SocketAddr, tls: bool) -> url::Url {
    if let Some(u) = &desk.url {
        return u.clone();
    }
    let scheme = if tls { "https" } else { "http" };
    let ip = if local.ip().is_unspecified() {
        interface_addresses().into_iter().next().unwrap_or(IpAddr::from([127, 0, 0, 1]))
    } else {
        local.ip()
    };
    let host = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    url::Url::parse(&format!("{scheme}://{host}:{}/", local.port()))
        .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1/").expect("a static address"))
}

/// The address `loudhailer desk` links to when no daemon has written one (a link made before
/// the daemon starts).
pub fn configured_url(desk: &Desk) -> url::Url {
    base_url(desk, desk.listen, desk.tls != DeskTls::Off)
}

/// This machine's own addresses other than loopback, IPv4 first (what a phone on the same
/// network can reach).
pub fn interface_addresses() -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .filter(|ip| !matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80))
        .collect();
    ips.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    ips.dedup();
    ips
}

/// Writes the running desk's address into the state dir; returns the file's path.
pub fn write_address(state_dir: &Path, address: &Address) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let path = state_dir.join(ADDRESS_FILE);
    let text = serde_json::to_string_pretty(address).unwrap_or_default();
    std::fs::write(&path, text).map_err(|e| (path.clone(), e))?;
    Ok(path)
}

/// The running desk's address, if a daemon wrote one.
pub fn read_address(state_dir: &Path) -> Option<Address> {
    serde_json::from_str(&std::fs::read_to_string(state_dir.join(ADDRESS_FILE)).ok()?).ok()
}

/// The sign-in link: the secret after `#`, which browsers never send to a server.
pub fn sign_in_link(base: &url::Url, secret: &str) -> String {
    let mut u = base.clone();
    u.set_path("/signin");
    u.set_query(None);
    u.set_fragment(Some(secret));
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_the_address_listened_on_or_the_configured_one() {
        let mut desk = Desk::default();
        let local: SocketAddr = "127.0.0.1:40123".parse().unwrap();
        assert_eq!(base_url(&desk, local, false).as_str(), "http://127.0.0.1:40123/");
        assert_eq!(base_url(&desk, "[::1]:8443".parse().unwrap(), true).as_str(), "https://[::1]:8443/");
        let all = base_url(&desk, "0.0.0.0:8443".parse().unwrap(), true);
        assert_eq!(all.port(), Some(8443));
        assert_ne!(all.host_str(), Some("0.0.0.0"), "a phone cannot open 0.0.0.0");
        desk.url = Some(url::Url::parse("https://desk.example:9443").unwrap());
        assert_eq!(base_url(&desk, local, true).as_str(), "https://desk.example:9443/");
        let link = sign_in_link(&base_url(&desk, local, true), "abc_DEF-123");
        assert_eq!(link, "https://desk.example:9443/signin#abc_DEF-123");
    }

    #[test]
    fn the_running_desks_address_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_address(dir.path()), None);
        let a = Address { url: url::Url::parse("https://127.0.0.1:1/").unwrap(), fingerprint: Some("AB:CD".into()) };
        write_address(dir.path(), &a).unwrap();
        assert_eq!(read_address(dir.path()), Some(a));
    }
}
