//! The desk's certificate: the PEM files the config names, or a self-signed one made on first
//! start and kept in the state dir (the key owner-only), so its SHA-256 fingerprint, printed at
//! every start and by `loudhailer desk`, stays the same and can be checked on the phone once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::config::Desk;

/// Why the desk has no certificate to serve with.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the desk's certificate {}: {why}", path.display())]
    File { path: PathBuf, why: String },
    #[error("the desk's certificate and key do not go together: {0}")]
    Config(String),
    #[error("cannot make the desk's self-signed certificate: {0}")]
    Make(String),
}

/// A certificate ready to serve with, and its fingerprint.
pub struct Certificate {
    pub config: RustlsConfig,
    /// SHA-256 of the certificate (the first of the chain), `AB:CD:…`.
    pub fingerprint: String,
}

/// The SHA-256 fingerprint of a certificate, as browsers show it: upper-case hex in pairs.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The certificate chain and key in these PEM files.
pub fn from_files(cert: &Path, key: &Path) -> Result<Certificate, TlsError> {
    let file_error = |path: &Path, why: String| TlsError::File { path: path.to_owned(), why };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_error(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(file_error(cert, "holds no PEM certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, e.to_string()))?;
    build(chain, key)
}

/// The self-signed certificate kept in the state dir, made now if there is none.
pub fn self_signed(state_dir: &Path, desk: &Desk) -> Result<Certificate, TlsError> {
    let (cert, key) = super::cert_paths(state_dir);
    if cert.exists() && key.exists() {
        return from_files(&cert, &key);
    }
    let names = subject_names(desk);
    let made = rcgen::generate_simple_self_signed(names.clone()).map_err(|e| TlsError::Make(e.to_string()))?;
    write(&key, made.signing_key.serialize_pem().as_bytes(), 0o600)?;
    write(&cert, made.cert.pem().as_bytes(), 0o644)?;
    let print = fingerprint(made.cert.der());
    tracing::info!(names = names.join(", "), fingerprint = %print, "made the desk's self-signed certificate");
    from_files(&cert, &key)
}

/// The names a self-signed certificate is made for: this machine by loopback, the address
/// listened on (every interface's, when it is all of them), and the configured address's host.
fn subject_names(desk: &Desk) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    let ip = desk.listen.ip();
    if ip.is_unspecified() {
        names.extend(super::link::interface_addresses().into_iter().map(|a| a.to_string()));
    } else {
        names.push(ip.to_string());
    }
    if let Some(host) = desk.url.as_ref().and_then(|u| u.host_str()) {
        names.push(host.trim_start_matches('[').trim_end_matches(']').to_string());
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let fail = |e: std::io::Error| TlsError::File { path: path.to_owned(), why: e.to_string() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// A rustls server config with ring (the provider reqwest already brings), HTTP/1.1 only.
fn build(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Certificate, TlsError> {
    let print = fingerprint(chain[0].as_ref());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certificate { config: RustlsConfig::from_config(Arc::new(config)), fingerprint: print })
}

#[cfg(test)]
mod tests;
