//! `loudhailer desk`: a one-time sign-in link to the live desk, with its QR code for the phone's
//! camera; `loudhailer desk revoke`: ends every desk session.

use std::io::IsTerminal;

use super::{live, load_config, Cli, CliError};
use crate::control::Request;
use crate::desk::{auth, link, tls};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// End every desk session and every unused sign-in link: every phone must sign in again.
    Revoke,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = load_config(cli)?;
    match args.action {
        Some(Action::Revoke) => live::finish(live::control(cli, &config, Request::DeskRevoke).await?),
        None => sign_in_link(cli, &config).await,
    }
}

async fn sign_in_link(cli: &Cli, config: &crate::config::Config) -> Result<(), CliError> {
    if !config.desk.enabled {
        return Err(CliError::Usage(format!("the desk is off ([desk] enabled = false in {})", config.path.display())));
    }
    let secret = auth::new_secret();
    let expires = crate::checked::saturating_after(chrono::Utc::now(), auth::LINK_LIFETIME);
    let request = Request::DeskLink { hash: auth::digest(secret.expose()), expires };
    let answer = live::control(cli, config, request).await?;
    if !answer.ok {
        return Err(CliError::Failed(answer.error.unwrap_or_else(|| "the daemon refused".into())));
    }
    let running = crate::control::client::connect(&config.state_dir).is_some();
    let (base, fingerprint) = match link::read_address(&config.state_dir).filter(|_| running) {
        Some(a) => (a.url, a.fingerprint),
        None => {
            let (cert, _) = crate::desk::cert_paths(&config.state_dir);
            let print = match &config.desk.tls {
                crate::config::DeskTls::Off => None,
                crate::config::DeskTls::SelfSigned => stored_fingerprint(&cert),
                crate::config::DeskTls::Files { cert, .. } => stored_fingerprint(cert),
            };
            (link::configured_url(&config.desk), print)
        }
    };
    let url = link::sign_in_link(&base, secret.expose());
    let minutes = auth::LINK_LIFETIME.as_secs() / 60;
    println!("Open this on your phone within {minutes} minutes; it signs in once:");
    println!();
    println!("  {url}");
    println!();
    match qr(&url) {
        Some(code) => println!("{code}"),
        None => println!("(the link is too long for a QR code)"),
    }
    if let Some(f) = fingerprint {
        println!("The desk's certificate (SHA-256): {f}");
        println!("If the phone warns about the certificate, check that it shows this fingerprint before going on.");
    }
    if !running {
        println!("No daemon is running: the link works once `loudhailer run` has started (within {minutes} minutes).");
    }
    println!("`loudhailer desk revoke` signs every phone out.");
    Ok(())
}

/// The fingerprint of a certificate file, if it can be read.
fn stored_fingerprint(cert: &std::path::Path) -> Option<String> {
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::pem_file_iter(cert).ok()?.next()?.ok()?;
    Some(tls::fingerprint(der.as_ref()))
}

/// The link as a QR code of Unicode half blocks: black on white in a terminal, whatever its
/// colours, so a phone's camera reads it.
fn qr(text: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let image = code.render::<Dense1x2>().quiet_zone(true).build();
    if !std::io::stdout().is_terminal() {
        return Some(image);
    }
    Some(image.lines().map(|l| format!("\x1b[30;47m{l}\x1b[0m")).collect::<Vec<_>>().join("\n"))
}
