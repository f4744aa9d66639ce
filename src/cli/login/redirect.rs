//! `loudhailer login linkedin|facebook|threads --account ID`: the authorization-code flow with a
//! loopback redirect. loudhailer listens on the app's callback (`redirect_uri`,
//! `http://127.0.0.1:8765/callback` by default, see [`super::callback`]) and takes the code from
//! the browser's request itself; the tokens are kept in the state dir (owner-only, never logged).
//! LinkedIn's tokens are refreshed where the app has refresh tokens; Facebook's Page token (got
//! from a long-lived User token through `/me/accounts`) does not expire; Threads' long-lived
//! token is refreshed after a day.

use std::io::Write;
use std::sync::Arc;

use super::Args;
use crate::cli::{load_config, Cli, CliError};
use crate::clock::Clock;
use crate::limit::{self, Limiter};
use crate::network::Network;
use crate::platform::http::Http;
use crate::platform::{Client, Platform};
use crate::secret::{self, Credentials};
use crate::store::Store;

/// How long `login` waits for the browser to come back.
const BROWSER_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// `--account`, which these networks need (one config may hold several of their accounts).
fn account_arg<'a>(args: &'a Args, network: &str) -> Result<&'a str, CliError> {
    args.account.as_deref().ok_or_else(|| {
        CliError::Usage(format!("`loudhailer login {network}` needs --account ID (the account's id in the config)"))
    })
}

pub async fn linkedin(cli: &Cli, args: &Args) -> Result<(), CliError> {
    use crate::platform::linkedin::oauth::{self, App};
    let config = load_config(cli)?;
    let id = account_arg(args, "linkedin")?;
    let account =
        config.account(id).ok_or_else(|| CliError::Usage(format!("no account {id:?} in {}", config.path.display())))?;
    if account.network != Network::LinkedIn {
        return Err(CliError::Usage(format!("account {} is on {}, not LinkedIn", account.id, account.network)));
    }
    let Some(client) = &account.oauth else {
        return Err(CliError::Usage(format!(
            "account {} names no OAuth client: add client_id and client_secret_env (the app's, from its Auth tab) to sign in with `loudhailer login linkedin`",
            account.id
        )));
    };
    let credentials = secret::load(account)?;
    let Credentials::OAuth2 { client_secret: Some(client_secret), .. } = &credentials else {
        return Err(CliError::Failed(format!("account {}: no client secret", account.id)));
    };
    let app = App { id: client.client_id.clone(), secret: client_secret.clone() };
    let scopes = args.scopes.clone().unwrap_or_else(|| {
        if account.organization.is_some() { oauth::ORGANIZATION_SCOPES } else { oauth::MEMBER_SCOPES }.to_string()
    });
    let store = Store::open(&config.state_dir)?;
    store.bind_event(&config.event.name)?;
    let clock = Clock::Wall;
    let limiter = Arc::new(Limiter::new(clock, limit::published(Network::LinkedIn)));
    let http = Http::new(&account.id, limiter.clone(), clock).map_err(|e| CliError::Failed(e.to_string()))?;

    let callback =
        super::callback::Callback::bind(&client.redirect_uri).map_err(|e| CliError::Failed(e.to_string()))?;
    let state = super::callback::state();
    let url = oauth::authorize_url(&account.server, &client.client_id, &client.redirect_uri, &scopes, &state);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Open this address in a browser, sign in to LinkedIn as the member for account {}, and allow access:\n",
        account.id
    )
    .ok();
    writeln!(out, "{url}\n").ok();
    writeln!(out, "Waiting for LinkedIn to send the browser back to {} …", client.redirect_uri).ok();
    out.flush().ok();
    drop(out);
    let code = tokio::task::spawn_blocking(move || callback.wait(&state, BROWSER_WAIT))
        .await
        .map_err(|e| CliError::Failed(format!("cannot wait for the browser: {e}")))?
        .map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
    let tokens = oauth::exchange_code(&http, &account.server, &app, &client.redirect_uri, &code, clock.now())
        .await
        .map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
    crate::platform::tokens::Keeper::save_login(&store, &account.id, oauth::KIND, &tokens)
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
    let expires =
        tokens.expires_at.map(|t| format!(", valid until {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default();
    let refresh = if tokens.refresh.is_some() {
        "; loudhailer refreshes it in its last week"
    } else {
        "; LinkedIn gave no refresh token (only approved partners get them): sign in again before it expires"
    };
    println!(
        "account {}: signed in to LinkedIn as {me}{expires}{refresh}. Its tokens are kept in {}",
        account.id,
        config.state_dir.display()
    );
    Ok(())
}

/// What a browser sign-in needs from the config: the account, its OAuth client and secret.
struct Browser {
    config: crate::config::Config,
    account: crate::config::Account,
    client: crate::config::OAuthClient,
    secret: crate::secret::Secret,
    credentials: Credentials,
}

impl Browser {
    fn load(cli: &Cli, args: &Args, network: Network) -> Result<Browser, CliError> {
        let config = load_config(cli)?;
        let id = account_arg(args, network.as_str())?;
        let account = config
            .account(id)
            .ok_or_else(|| CliError::Usage(format!("no account {id:?} in {}", config.path.display())))?;
        if account.network != network {
            return Err(CliError::Usage(format!("account {} is on {}, not {network}", account.id, account.network)));
        }
        let Some(client) = account.oauth.clone() else {
            return Err(CliError::Usage(format!(
                "account {} names no OAuth client: add client_id and client_secret_env (the app's) to sign in with `loudhailer login {network}`",
                account.id
            )));
        };
        let credentials = secret::load(account)?;
        let Credentials::OAuth2 { client_secret: Some(secret), .. } = &credentials else {
            return Err(CliError::Failed(format!("account {}: no client secret", account.id)));
        };
        let secret = secret.clone();
        let account = account.clone();
        Ok(Browser { config, account, client, secret, credentials })
    }

    fn account(&self) -> &crate::config::Account {
        &self.account
    }

    /// Listens on the callback, prints where to sign in, and waits for the code.
    async fn code(&self, url: &url::Url, what: &str) -> Result<String, CliError> {
        let callback =
            super::callback::Callback::bind(&self.client.redirect_uri).map_err(|e| CliError::Failed(e.to_string()))?;
        let state = url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).unwrap_or_default();
        let mut out = std::io::stdout().lock();
        writeln!(out, "Open this address in a browser, {what}, and allow access:\n").ok();
        writeln!(out, "{url}\n").ok();
        writeln!(out, "Waiting for the browser to come back to {} …", self.client.redirect_uri).ok();
        out.flush().ok();
        drop(out);
        tokio::task::spawn_blocking(move || callback.wait(&state, BROWSER_WAIT))
            .await
            .map_err(|e| CliError::Failed(format!("cannot wait for the browser: {e}")))?
            .map_err(|e| CliError::Failed(format!("account {}: {e}", self.account.id)))
    }

    /// Stores `tokens`, checks them by verifying the account, and clears a pause for refused
    /// credentials; answers the account's own id.
    async fn keep(&self, kind: &str, tokens: &crate::platform::tokens::Tokens) -> Result<(String, Store), CliError> {
        let account = self.account();
        let store = Store::open(&self.config.state_dir)?;
        store.bind_event(&self.config.event.name)?;
        crate::platform::tokens::Keeper::save_login(&store, &account.id, kind, tokens)
            .map_err(|e| CliError::Failed(format!("cannot store the tokens: {e}")))?;
        let limiter = Arc::new(Limiter::new(Clock::Wall, limit::published(account.network)));
        let client = Client::connect(account, self.credentials.clone(), limiter, Clock::Wall, Arc::new(store.clone()))
            .map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
        let me = client.verify().await.map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
        store.update_account(&account.id, |a| {
            a.remote_id = Some(me.clone());
            if a.paused.as_deref().is_some_and(crate::platform::is_credentials_pause) {
                a.paused = None;
            }
        })?;
        Ok((me, store))
    }

    fn http(&self) -> Result<Http, CliError> {
        let account = self.account();
        let limiter = Arc::new(Limiter::new(Clock::Wall, limit::published(account.network)));
        Http::new(&account.id, limiter, Clock::Wall).map_err(|e| CliError::Failed(e.to_string()))
    }
}

pub async fn facebook(cli: &Cli, args: &Args) -> Result<(), CliError> {
    use crate::platform::facebook::oauth;
    let b = Browser::load(cli, args, Network::Facebook)?;
    let account = b.account();
    let version = account.api_version.clone().unwrap_or_else(|| crate::config::networks::GRAPH_VERSION.into());
    let page = account.page.clone().unwrap_or_default();
    let scopes = args.scopes.clone().unwrap_or_else(|| oauth::SCOPES.to_string());
    let state = super::callback::state();
    let url =
        oauth::dialog_url(&account.server, &version, &b.client.client_id, &b.client.redirect_uri, &scopes, &state);
    let code = b.code(&url, &format!("log in to Facebook as a person who manages the Page {page}")).await?;
    let http = b.http()?;
    let fail = |e: crate::platform::PlatformError| CliError::Failed(format!("account {}: {e}", account.id));
    let user = oauth::user_token(
        &http,
        &account.server,
        &version,
        &b.client.client_id,
        &b.secret,
        &b.client.redirect_uri,
        &code,
    )
    .await
    .map_err(fail)?;
    let (tokens, name) =
        oauth::page_token(&http, &account.server, &version, &user, &page, Clock::Wall.now()).await.map_err(fail)?;
    let (_, _) = b.keep(oauth::KIND, &tokens).await?;
    println!(
        "account {}: signed in to Facebook for the Page {name} ({page}); its Page token (which does not expire) is kept in {}",
        account.id,
        b.config.state_dir.display()
    );
    Ok(())
}

pub async fn threads(cli: &Cli, args: &Args) -> Result<(), CliError> {
    use crate::platform::threads::oauth;
    let b = Browser::load(cli, args, Network::Threads)?;
    let account = b.account();
    let state = super::callback::state();
    let url = oauth::authorize_url(&account.server, &b.client.client_id, &b.client.redirect_uri, &state);
    let code = b.code(&url, &format!("sign in to Threads as the account for {}", account.id)).await?;
    let http = b.http()?;
    let tokens = oauth::exchange_code(
        &http,
        &account.server,
        &b.client.client_id,
        &b.secret,
        &b.client.redirect_uri,
        &code,
        Clock::Wall.now(),
    )
    .await
    .map_err(|e| CliError::Failed(format!("account {}: {e}", account.id)))?;
    let (me, _) = b.keep(oauth::KIND, &tokens).await?;
    let expires =
        tokens.expires_at.map(|t| format!(", valid until {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default();
    println!(
        "account {}: signed in to Threads as user {me}{expires}; loudhailer refreshes it in its last 30 days. Its token is kept in {}",
        account.id,
        b.config.state_dir.display()
    );
    Ok(())
}
