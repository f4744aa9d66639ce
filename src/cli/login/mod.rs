//! `loudhailer login NETWORK`: signing an account in through a browser, and keeping what the
//! network hands back in the state dir, so no token is copied by hand.
//!
//! - [`mastodon`]: registers loudhailer as an app on the account's server and keeps its token.
//! - [`x`]: OAuth 2.0 with PKCE for X, whose tokens `run` refreshes.
//! - [`redirect`]: LinkedIn, Facebook and Threads, through the app's registered callback.
//! - [`loopback`] and [`callback`]: the one-request listeners on 127.0.0.1 a browser is sent
//!   back to (Mastodon's on a free port; the others' on the callback the app registered).

mod callback;
mod loopback;
mod mastodon;
mod redirect;
mod x;

use std::io::{BufRead, Write};

use url::Url;

use super::{Cli, CliError};

/// The networks that sign in through a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LoginNetwork {
    Mastodon,
    X,
    #[value(name = "linkedin")]
    LinkedIn,
    Facebook,
    Threads,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The network to sign in to.
    #[arg(value_enum)]
    pub network: LoginNetwork,
    /// The account (its `id` in the config). Mastodon: may be left out when one Mastodon account
    /// (on --server, if given) has no token_env/token_file.
    #[arg(long)]
    pub account: Option<String>,
    /// Mastodon: the account's server, to pick the account by (it must match the config's).
    #[arg(long, value_name = "URL")]
    pub server: Option<Url>,
    /// Mastodon: paste the code the server shows instead of being sent back to loudhailer
    /// (for a browser on another machine than loudhailer).
    #[arg(long)]
    pub paste: bool,
    /// Mastodon: the port on 127.0.0.1 the browser is sent back to (0: any free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Print the address to open instead of opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// LinkedIn, Facebook: the scopes to ask for, space-separated, instead of the role's usual
    /// ones (LinkedIn: "openid profile w_member_social" for a member; a page adds
    /// w_organization_social and r_organization_social). Ask only for what the app's products
    /// grant.
    #[arg(long)]
    pub scopes: Option<String>,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    match args.network {
        LoginNetwork::Mastodon => mastodon::run(cli, args).await,
        LoginNetwork::X => x::run(cli, args.account.as_deref()).await,
        LoginNetwork::LinkedIn => redirect::linkedin(cli, args).await,
        LoginNetwork::Facebook => redirect::facebook(cli, args).await,
        LoginNetwork::Threads => redirect::threads(cli, args).await,
    }
}

/// One line typed by the person (read off the runtime's threads).
async fn read_line() -> Result<String, CliError> {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| CliError::Failed(format!("cannot read the answer: {e}")))?
    .map_err(|e| CliError::Failed(format!("cannot read the answer: {e}")))
}

/// Prints `lines` and flushes, so a person (or a test) sees them before loudhailer waits.
fn say(lines: &[&str]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// Opens `url` in the person's browser when they are at a terminal and did not say no; the
/// address is printed either way. The desktop's own opener is run (`xdg-open`, macOS's
/// `open`) rather than a crate: it is the one call such crates make on these systems.
fn open_browser(url: &Url, no_browser: bool) -> bool {
    use std::io::IsTerminal;
    if no_browser || !std::io::stdout().is_terminal() {
        return false;
    }
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    let spawned = std::process::Command::new(opener)
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            // Reaped in the background: some openers wait for the browser to close.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(_) => false,
    }
}
