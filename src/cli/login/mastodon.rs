//! `loudhailer login mastodon [--account ID] [--server URL]`: registers loudhailer on the
//! account's server, sends the person to the server's page to allow it, takes the code back
//! (the browser comes back to 127.0.0.1, or the person pastes it), and keeps the token in the
//! state dir, which is owner-only. The config then needs no token_env or token_file.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::loopback::Loopback;
use super::{open_browser, read_line, say, Args};
use crate::cli::advice::sign_in_advice;
use crate::cli::{load_config, Cli, CliError};
use crate::clock::Clock;
use crate::config::{Account, Config};
use crate::limit::{self, Limiter};
use crate::network::Network;
use crate::platform::http::Http;
use crate::platform::mastodon::oauth::{self, OOB};
use crate::platform::x::oauth2::pkce;
use crate::platform::{Client, Platform, PlatformError};
use crate::secret::Credentials;
use crate::store::Store;

/// How long the person has to allow loudhailer in the browser.
const BROWSER_LIMIT: Duration = Duration::from_secs(15 * 60);

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let account = pick(&config, args.account.as_deref(), args.server.as_ref())?;
    if account.secret.is_some() {
        return Err(CliError::Usage(format!(
            "account {} takes its token from token_env/token_file in {}; remove that line to use the token `loudhailer login mastodon` keeps",
            account.id,
            config.path.display()
        )));
    }
    let store = Store::open(&config.state_dir)?;
    store.bind_event(&config.event.name)?;
    let clock = Clock::Wall;
    let limiter = Arc::new(Limiter::new(clock, limit::published(Network::Mastodon)));
    let http = Http::new(&account.id, limiter.clone(), clock).map_err(|e| CliError::Failed(e.to_string()))?;
    let server = &account.server;
    let failed = |e: PlatformError| {
        CliError::Failed(match e {
            PlatformError::Retry(_) => format!("account {}: {}", account.id, sign_in_advice(account, &e)),
            other => format!("account {} on {server}: {other}", account.id),
        })
    };

    let loopback = if args.paste { None } else { Some(Loopback::bind(args.port).await?) };
    let redirect_uri = loopback.as_ref().map_or_else(|| OOB.to_string(), Loopback::redirect_uri);
    let app = oauth::register(&http, server, &redirect_uri).await.map_err(failed)?;
    let pkce = pkce();
    let url = oauth::authorize_url(server, &app, &redirect_uri, &pkce.challenge, &pkce.state);
    let opened = open_browser(&url, args.no_browser);
    say(&[
        &format!(
            "{} this address in a browser, sign in on {} with the account to use as `{}`, and allow loudhailer:",
            if opened { "Opened" } else { "Open" },
            server.host_str().unwrap_or("the server"),
            account.id
        ),
        "",
        url.as_str(),
        "",
    ]);
    let code = match &loopback {
        Some(lb) => {
            say(&[&format!(
                "Waiting for the browser to come back to {redirect_uri} … (browser on another machine? Ctrl-C, then add --paste)"
            )]);
            lb.code(&pkce.state, BROWSER_LIMIT).await?
        }
        None => {
            say(&["The server then shows a code: paste it here and press Enter:"]);
            let line = read_line().await?;
            oauth::code_from_paste(&line, &pkce.state).map_err(|e| CliError::Usage(format!("sign-in: {e}")))?
        }
    };
    let token = oauth::exchange_code(&http, server, &app, &redirect_uri, &code, &pkce.verifier, clock.now())
        .await
        .map_err(failed)?;
    // The token is tried before it is kept: one that does not work is not stored.
    let client =
        Client::connect(account, Credentials::Token(token.access.clone()), limiter, clock, Arc::new(store.clone()))
            .map_err(failed)?;
    let me = client.verify().await.map_err(failed)?;
    oauth::save(&store, &account.id, &token).map_err(|e| CliError::Failed(format!("cannot keep the token: {e}")))?;
    store.update_account(&account.id, |a| {
        a.remote_id = Some(me.clone());
        if a.paused.as_deref().is_some_and(crate::platform::is_credentials_pause) {
            a.paused = None;
        }
    })?;
    let missing = token.missing_scopes();
    if !missing.is_empty() {
        tracing::warn!(
            account = %account.id,
            "the server did not grant {}: some of loudhailer's requests will be refused",
            missing.join(", ")
        );
    }
    say(&[&format!(
        "account {}: signed in on {server} (account id {me}); its token is kept in {} (owner-only). `loudhailer check --online` confirms it.",
        account.id,
        config.state_dir.display()
    )]);
    Ok(())
}

/// The account to sign in: the one named, or the one Mastodon account (on `server`, if given)
/// that has no token_env/token_file.
fn pick<'a>(config: &'a Config, id: Option<&str>, server: Option<&Url>) -> Result<&'a Account, CliError> {
    let on = |a: &Account| server.is_none_or(|s| same_server(s, &a.server));
    let shown = server.map(|s| format!(" on {s}")).unwrap_or_default();
    if let Some(id) = id {
        let account = config
            .account(id)
            .ok_or_else(|| CliError::Usage(format!("no account {id:?} in {}", config.path.display())))?;
        if account.network != Network::Mastodon {
            return Err(CliError::Usage(format!("account {id} is on {}, not Mastodon", account.network)));
        }
        if !on(account) {
            return Err(CliError::Usage(format!("account {id} is on {}, not{shown}", account.server)));
        }
        return Ok(account);
    }
    let candidates: Vec<&Account> =
        config.accounts.iter().filter(|a| a.network == Network::Mastodon && on(a)).collect();
    let unsigned: Vec<&Account> = candidates.iter().copied().filter(|a| a.secret.is_none()).collect();
    match (candidates.as_slice(), unsigned.as_slice()) {
        ([], _) => Err(CliError::Usage(format!(
            "no Mastodon account{shown} in {}: add one, or write a starter config with `loudhailer init --mastodon @you@server`",
            config.path.display()
        ))),
        ([one], _) | (_, [one]) => Ok(*one),
        _ => Err(CliError::Usage(format!(
            "several Mastodon accounts{shown} ({}): name one with --account",
            candidates.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Whether two addresses name the same server (scheme, host and port; the path aside).
fn same_server(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(accounts: &str) -> Config {
        let text = format!("[event]\nname = \"T\"\ntimezone = \"UTC\"\n{accounts}");
        Config::parse(std::path::Path::new("t.toml"), &text).unwrap()
    }

    fn account(id: &str, server: &str, extra: &str) -> String {
        format!("[[account]]\nid = \"{id}\"\nplatform = \"mastodon\"\nserver = \"{server}\"\n{extra}")
    }

    #[test]
    fn the_account_to_sign_in_is_picked_or_asked_for() {
        let url = |s: &str| Url::parse(s).unwrap();
        let two = config(&format!(
            "{}{}",
            account("delegate", "https://a.example", ""),
            account("council", "https://b.example", "role = \"amplifier\"\ntoken_env = \"T\"\n")
        ));
        assert_eq!(pick(&two, None, None).unwrap().id, "delegate", "the one without a token source");
        assert_eq!(pick(&two, None, Some(&url("https://B.example/"))).unwrap().id, "council");
        assert_eq!(pick(&two, Some("council"), None).unwrap().id, "council");
        let err = pick(&two, Some("council"), Some(&url("https://a.example"))).unwrap_err().to_string();
        assert!(err.contains("account council is on https://b.example/, not on https://a.example/"), "{err}");
        let err = pick(&two, None, Some(&url("https://c.example"))).unwrap_err().to_string();
        assert!(err.contains("no Mastodon account on https://c.example/") && err.contains("loudhailer init"), "{err}");
        let err = pick(&two, Some("nobody"), None).unwrap_err().to_string();
        assert!(err.contains("no account \"nobody\""), "{err}");

        let both_unsigned = config(&format!(
            "{}{}",
            account("delegate", "https://a.example", ""),
            account("council", "https://a.example", "role = \"amplifier\"\n")
        ));
        let err = pick(&both_unsigned, None, None).unwrap_err().to_string();
        assert!(err.contains("several Mastodon accounts (delegate, council): name one with --account"), "{err}");
    }
}
