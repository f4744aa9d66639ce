//! Credentials: read from the environment or an owner-only file, never printed.

use std::fmt;
use std::path::PathBuf;

use crate::config::{Account, SecretSource, XAuth};

/// A secret value. Its `Debug` shows nothing of it and it has no `Display`, so it cannot
/// reach a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Everything secret one account signs its requests with.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Mastodon's access token, Bluesky's app password.
    Token(Secret),
    /// X with OAuth 1.0a user context.
    XOAuth1(OAuth1Keys),
    /// X with OAuth 2.0: a confidential client's secret (the tokens live in the state store).
    XOAuth2 { client_secret: Option<Secret> },
    /// Mastodon without token_env/token_file: the token `loudhailer login mastodon` keeps in the
    /// state store (read where the store is open: `cli::clients`).
    SignedIn,
    /// LinkedIn, Facebook, Threads: an access token given in the config's `token_env`/`token_file`, and the OAuth
    /// client's secret for `loudhailer login` and refreshing (the tokens it gets live in the
    /// state store).
    OAuth2 { token: Option<Secret>, client_secret: Option<Secret> },
}

impl From<Secret> for Credentials {
    fn from(s: Secret) -> Self {
        Credentials::Token(s)
    }
}

/// OAuth 1.0a user-context keys: the app's consumer key and secret, the account's access token
/// and secret.
#[derive(Debug, Clone)]
pub struct OAuth1Keys {
    pub consumer_key: Secret,
    pub consumer_secret: Secret,
    pub access_token: Secret,
    pub access_secret: Secret,
}

/// Why an account's secret could not be read. Names where it was looked for, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("account {account}: the environment variable {var} is not set (it should hold the {what}): `export {var}=…` before running loudhailer{}", login_hint(what))]
    MissingEnv { account: String, var: String, what: &'static str },
    #[error("account {account}: the environment variable {var} is empty")]
    EmptyEnv { account: String, var: String },
    #[error("account {account}: cannot read {}: {source}", path.display())]
    File { account: String, path: PathBuf, source: std::io::Error },
    #[error("account {account}: {} can be read by others (mode {mode:o}); run `chmod 600 {}`", path.display(), path.display())]
    Readable { account: String, path: PathBuf, mode: u32 },
    #[error("account {account}: {} is empty", path.display())]
    EmptyFile { account: String, path: PathBuf },
    #[error("account {account}: the config names no credentials")]
    NotConfigured { account: String },
    #[error("account {account}: {} is in systemd's credentials directory, but CREDENTIALS_DIRECTORY is not set: run loudhailer from its unit (LoadCredential=; see docs/operating.md), or give the file's own path", path.display())]
    NoCredentialsDir { account: String, path: PathBuf },
}

/// The other way to give a Mastodon token, for the missing-variable message.
fn login_hint(what: &str) -> &'static str {
    if what == "access token" {
        ", or leave token_env out and run `loudhailer login mastodon`"
    } else {
        ""
    }
}

/// Reads the account's credentials: its token (Mastodon), app password (Bluesky), or keys (X).
pub fn load(account: &Account) -> Result<Credentials, SecretError> {
    let id = account.id.as_str();
    use crate::network::Network;
    if matches!(account.network, Network::LinkedIn | Network::Facebook | Network::Threads) {
        let what = match account.network {
            Network::LinkedIn => "LinkedIn access token",
            Network::Facebook => "Facebook Page access token",
            _ => "Threads access token",
        };
        return Ok(Credentials::OAuth2 {
            token: account.secret.as_ref().map(|s| read(id, s, what)).transpose()?,
            client_secret: account
                .oauth
                .as_ref()
                .and_then(|o| o.client_secret.as_ref())
                .map(|s| read(id, s, "OAuth client secret"))
                .transpose()?,
        });
    }
    match (&account.x, &account.secret) {
        (Some(XAuth::OAuth1 { consumer_key, consumer_secret, access_token, access_secret }), _) => {
            Ok(Credentials::XOAuth1(OAuth1Keys {
                consumer_key: read(id, consumer_key, "X consumer key (API key)")?,
                consumer_secret: read(id, consumer_secret, "X consumer secret (API key secret)")?,
                access_token: read(id, access_token, "X access token")?,
                access_secret: read(id, access_secret, "X access token secret")?,
            }))
        }
        (Some(XAuth::OAuth2 { client_secret, .. }), _) => Ok(Credentials::XOAuth2 {
            client_secret: client_secret.as_ref().map(|s| read(id, s, "X OAuth 2.0 client secret")).transpose()?,
        }),
        (None, Some(source)) => {
            let what = match account.network {
                crate::network::Network::Bluesky => "app password",
                _ => "access token",
            };
            Ok(Credentials::Token(read(id, source, what)?))
        }
        (None, None) if account.network == crate::network::Network::Mastodon => Ok(Credentials::SignedIn),
        (None, None) => Err(SecretError::NotConfigured { account: id.to_string() }),
    }
}

/// Reads one secret from where the config says it is.
pub fn read(account: &str, source: &SecretSource, what: &'static str) -> Result<Secret, SecretError> {
    match source {
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if v.trim().is_empty() => Err(SecretError::EmptyEnv { account: account.into(), var: var.clone() }),
            Ok(v) => Ok(Secret(v.trim().to_string())),
            Err(_) => Err(SecretError::MissingEnv { account: account.into(), var: var.clone(), what }),
        },
        SecretSource::File(written) => {
            // systemd's credentials: a copy only the service's user can read, in a read-only
            // directory, so its mode needs no check (systemd sets it, not the person).
            let (path, from_systemd) = match crate::config::in_credentials_dir(written) {
                Some(rest) => match std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) {
                    Some(dir) => (PathBuf::from(dir).join(rest), true),
                    None => {
                        return Err(SecretError::NoCredentialsDir { account: account.into(), path: written.clone() })
                    }
                },
                None => (written.clone(), false),
            };
            let path = &path;
            let file_err = |source| SecretError::File { account: account.into(), path: path.clone(), source };
            #[cfg(unix)]
            if !from_systemd {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path).map_err(file_err)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(SecretError::Readable {
                        account: account.into(),
                        path: path.clone(),
                        mode: mode & 0o777,
                    });
                }
            }
            let text = std::fs::read_to_string(path).map_err(file_err)?;
            let value = text.trim();
            if value.is_empty() {
                return Err(SecretError::EmptyFile { account: account.into(), path: path.clone() });
            }
            Ok(Secret(value.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn secrets_never_show() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn files_must_be_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read("delegate", &SecretSource::File(path.clone()), "access token").unwrap_err();
        assert!(err.to_string().contains("can be read by others (mode 644)"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read("delegate", &SecretSource::File(path), "t").unwrap().expose(), "abc");
    }

    #[test]
    fn x_keys_are_read_from_where_the_config_says() {
        let text = "[event]\nname = \"T\"\ntimezone = \"UTC\"\n[[account]]\nid = \"bird\"\nplatform = \"x\"\nconsumer_key_env = \"LH_T_XCK\"\nconsumer_secret_env = \"LH_T_XCS\"\naccess_token_env = \"LH_T_XAT\"\naccess_secret_env = \"LH_T_XAS_UNSET\"\n";
        let config = crate::config::Config::parse(std::path::Path::new("t.toml"), text).unwrap();
        let bird = config.account("bird").unwrap();
        for (k, v) in [("LH_T_XCK", "ck"), ("LH_T_XCS", "cs"), ("LH_T_XAT", "at")] {
            std::env::set_var(k, v);
        }
        let err = load(bird).unwrap_err();
        assert_eq!(
            err.to_string(),
            "account bird: the environment variable LH_T_XAS_UNSET is not set (it should hold the X access token secret): `export LH_T_XAS_UNSET=…` before running loudhailer"
        );
        std::env::set_var("LH_T_XAS_UNSET", "as");
        match load(bird).unwrap() {
            Credentials::XOAuth1(keys) => {
                assert_eq!(keys.consumer_key.expose(), "ck");
                assert_eq!(keys.access_secret.expose(), "as");
                assert!(!format!("{keys:?}").contains("cs"), "{keys:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_variables_are_named() {
        let err = read("council", &SecretSource::Env("LH_SURELY_UNSET_VAR".into()), "access token").unwrap_err();
        assert_eq!(
            err.to_string(),
            "account council: the environment variable LH_SURELY_UNSET_VAR is not set (it should hold the access token): `export LH_SURELY_UNSET_VAR=…` before running loudhailer, or leave token_env out and run `loudhailer login mastodon`"
        );
    }

    #[test]
    fn systemd_credentials_are_read_from_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("delegate-token");
        std::fs::write(&file, "from-systemd\n").unwrap();
        // systemd's own mode for credentials; a group bit would not be the person's doing.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o440)).unwrap();
        let source = SecretSource::File("${CREDENTIALS_DIRECTORY}/delegate-token".into());
        // Both spellings; the variable is set for this process alone in this test.
        std::env::set_var("CREDENTIALS_DIRECTORY", dir.path());
        assert_eq!(read("delegate", &source, "access token").unwrap().expose(), "from-systemd");
        let bare = SecretSource::File("$CREDENTIALS_DIRECTORY/delegate-token".into());
        assert_eq!(read("delegate", &bare, "access token").unwrap().expose(), "from-systemd");
        std::env::remove_var("CREDENTIALS_DIRECTORY");
        let err = read("delegate", &source, "access token").unwrap_err().to_string();
        assert!(err.contains("CREDENTIALS_DIRECTORY is not set: run loudhailer from its unit"), "{err}");
    }
}
