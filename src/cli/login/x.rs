//! `loudhailer login x --account ID`: OAuth 2.0 Authorization Code with PKCE for X; the person
//! pastes back the address the browser was sent to. The tokens are kept in the state dir
//! (owner-only, never logged), where `run` refreshes them.

use std::io::{BufRead, Write};
use std::sync::Arc;

use crate::cli::{load_config, Cli, CliError};
use crate::clock::Clock;
use crate::config::XAuth;
use crate::limit::{self, Limiter};
use crate::network::Network;
use crate::platform::http::Http;
use crate::platform::x::oauth2::{self, ClientAuth, Endpoint};
use crate::platform::{Client, Platform};
use crate::secret::{self, Credentials};
use crate::store::Store;

pub async fn run(cli: &Cli, account_id: Option<&str>) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let Some(account_id) = account_id else {
        return Err(CliError::Usage(
            "`loudhailer login x` needs --account ID (the X account's id in the config)".into(),
        ));
    };
    let account = config
        .account(account_id)
        .ok_or_else(|| CliError::Usage(format!("no account {account_id:?} in {}", config.path.display())))?;
    let (client_id, redirect_uri) = match (&account.network, &account.x) {
        (Network::X, Some(XAuth::OAuth2 { client_id, redirect_uri, .. })) => (client_id.clone(), redirect_uri.clone()),
        (Network::X, _) => {
            return Err(CliError::Usage(format!(
                "account {} signs with OAuth 1.0a keys, which need no login; `loudhailer login x` is for accounts with a client_id",
                account.id
            )))
        }
        (other, _) => return Err(CliError::Usage(format!("account {} is on {other}, not X", account.id))),
    };
    let credentials = secret::load(account)?;
    let Credentials::XOAuth2 { client_secret } = &credentials else {
        return Err(CliError::Failed(format!("account {}: no OAuth 2.0 client", account.id)));
    };
    let store = Store::open(&config.state_dir)?;
    store.bind_event(&config.event.name)?;
    let clock = Clock::Wall;
    let limiter = Arc::new(Limiter::new(clock, limit::published(Network::X)));
    let http = Http::new(&account.id, limiter.clone(), clock).map_err(|e| CliError::Failed(e.to_string()))?;
    let endpoint = Endpoint {
        server: account.server.clone(),
        client: ClientAuth { id: client_id.clone(), secret: client_secret.clone() },
    };

    let pkce = oauth2::pkce();
    let url = oauth2::authorize_url(&account.server, &client_id, &redirect_uri, &pkce);
    let mut out = std::io::stdout().lock();
    writeln!(out, "Open this address in a browser, sign in to X as the account {}, and allow access:\n", account.id)
        .ok();
    writeln!(out, "{url}\n").ok();
    writeln!(out, "X then sends the browser to {redirect_uri}?… (the page may not load: that is fine).").ok();
    writeln!(out, "Paste that whole address here (or just its code) and press Enter:").ok();
    out.flush().ok();
    drop(out);
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| CliError::Failed(format!("cannot read the answer: {e}")))?
    .map_err(|e| CliError::Failed(format!("cannot read the answer: {e}")))?;
    let code = oauth2::code_from(&line, &pkce.state).map_err(|e| CliError::Usage(e.to_string()))?;
    let tokens = oauth2::exchange_code(&http, &endpoint, &redirect_uri, &code, &pkce.verifier, clock.now())
        .await
        .map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
    if tokens.refresh.is_none() {
        tracing::warn!(account = %account.id, "X gave no refresh token (offline.access not granted?): sign in again in two hours");
    }
    oauth2::save(&store, &account.id, &tokens)
        .map_err(|e| CliError::Failed(format!("cannot store the tokens: {e}")))?;
    let client = Client::connect(account, credentials.clone(), limiter, clock, Arc::new(store.clone()))
        .map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
    let me = client.verify().await.map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
    store.update_account(&account.id, |a| {
        a.remote_id = Some(me.clone());
        if a.paused.as_deref().is_some_and(crate::platform::is_credentials_pause) {
            a.paused = None;
        }
    })?;
    println!(
        "account {}: signed in to X (user id {me}); its tokens are kept in {}",
        account.id,
        config.state_dir.display()
    );
    Ok(())
}
