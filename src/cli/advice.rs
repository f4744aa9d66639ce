//! What to do next, in one line, for what a newcomer meets in the first hour: an account that
//! cannot sign in (the server out of reach, or the credentials it refused and where they come
//! from), and an event that is over.

use crate::config::{Account, Config};
use crate::platform::PlatformError;

/// What a newcomer does next when an account cannot sign in, in one line: the server that
/// cannot be reached, or the credentials it refused and where they come from.
pub(super) fn sign_in_advice(account: &Account, error: &PlatformError) -> String {
    use crate::config::SecretSource;
    use crate::network::Network;
    let server = account.server.as_str().trim_end_matches('/');
    let source = |s: &Option<SecretSource>| match s {
        Some(SecretSource::Env(var)) => format!("the variable {var}"),
        Some(SecretSource::File(path)) => path.display().to_string(),
        None => "the state dir".into(),
    };
    match error {
        PlatformError::Retry(why) => format!(
            "cannot reach {server} ({why}): check `server` in the config and this machine's network, then run `loudhailer check --online` again"
        ),
        PlatformError::Auth { status, message } => {
            let fix = match (account.network, &account.secret) {
                (Network::Mastodon, None) => {
                    format!("sign in again with `loudhailer login mastodon --account {}`", account.id)
                }
                (Network::Mastodon, secret) => format!(
                    "the token in {} is wrong or revoked: make a new one, or leave token_env/token_file out and run `loudhailer login mastodon --account {}`",
                    source(secret),
                    account.id
                ),
                (Network::Bluesky, secret) => format!(
                    "check identifier = {:?} (the handle, such as name.bsky.social, or the DID) and that {} holds an app password",
                    account.identifier.as_deref().unwrap_or(""),
                    source(secret)
                ),
                _ => "check the account's keys, or sign in again with `loudhailer login`".into(),
            };
            format!("{server} refused the credentials ({status}: {message}): {fix}")
        }
        PlatformError::Permanent { status: 404, .. } => format!(
            "{server} answered 404 Not Found: is it the {} server of this account? Check `server` in the config",
            account.network
        ),
        other => other.to_string(),
    }
}

/// A warning when every session is over: nothing will be posted, and what to do about it.
pub(super) fn over(config: &Config, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let last = config.sessions.latest_end()?;
    if last >= now {
        return None;
    }
    Some(format!(
        "every session is over (the last ended {} {}): nothing new will be posted; for the coming event, set its dates ([event] date, the sessions' start, or this year's schedule file), or rehearse with `loudhailer run --dry-run`",
        last.with_timezone(&config.event.timezone).format("%Y-%m-%d %H:%M"),
        config.event.timezone
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(std::path::Path::new("t.toml"), text).unwrap()
    }

    #[test]
    fn advice_names_what_to_check() {
        let c = config(
            "[event]\nname = \"T\"\ntimezone = \"UTC\"\n[[account]]\nid = \"m\"\nplatform = \"mastodon\"\nserver = \"https://m.example\"\n\
             [[account]]\nid = \"t\"\nplatform = \"mastodon\"\nserver = \"https://m.example\"\ntoken_file = \"/k/t\"\n\
             [[account]]\nid = \"b\"\nplatform = \"bluesky\"\nserver = \"https://bsky.example\"\nidentifier = \"b.example\"\npassword_env = \"PW\"\n",
        );
        let auth = PlatformError::Auth { status: 401, message: "no".into() };
        let cases = [
            ("m", PlatformError::Retry("cannot connect".into()), "cannot reach https://m.example (cannot connect): check `server`"),
            ("m", auth.clone(), "sign in again with `loudhailer login mastodon --account m`"),
            ("t", auth.clone(), "the token in /k/t is wrong or revoked"),
            ("b", auth.clone(), "check identifier = \"b.example\" (the handle, such as name.bsky.social, or the DID) and that the variable PW holds an app password"),
            ("m", PlatformError::Permanent { status: 404, message: "x".into() }, "answered 404 Not Found: is it the mastodon server"),
            ("m", PlatformError::Permanent { status: 422, message: "x".into() }, "the server refused it (422): x"),
        ];
        for (id, error, want) in cases {
            let got = sign_in_advice(c.account(id).unwrap(), &error);
            assert!(got.contains(want), "{id} {error:?}: {got}");
        }
    }

    #[test]
    fn an_event_is_over_once_its_last_session_ends() {
        let c = config(
            "[event]\nname = \"T\"\ntimezone = \"Europe/London\"\n[[account]]\nid = \"m\"\nplatform = \"mastodon\"\nserver = \"https://m.example\"\n\
             [[session]]\nid = \"a\"\ntitle = \"A\"\nstart = \"2030-06-01T10:00:00Z\"\nend = \"2030-06-01T11:00:00Z\"\n",
        );
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(over(&c, at("2030-06-01T10:59:00Z")), None);
        let w = over(&c, at("2030-06-01T11:01:00Z")).unwrap();
        assert!(w.starts_with("every session is over (the last ended 2030-06-01 12:00 Europe/London)"), "{w}");
        let none = config("[event]\nname = \"T\"\ntimezone = \"UTC\"\n[[account]]\nid = \"m\"\nplatform = \"mastodon\"\nserver = \"https://m.example\"\n");
        assert_eq!(over(&none, at("2030-06-01T11:01:00Z")), None, "no sessions: nothing to say");
    }
}
