//! Credentials: read from the environment or an owner-only file, never printed.

use std::fmt;
use std::path::PathBuf;

use crate::config::{Account, SecretSource};

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

/// Why an account's secret could not be read. Names where it was looked for, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("account {account}: the environment variable {var} is not set (it should hold the {what})")]
    MissingEnv { account: String, var: String, what: &'static str },
    #[error("account {account}: the environment variable {var} is empty")]
    EmptyEnv { account: String, var: String },
    #[error("account {account}: cannot read {}: {source}", path.display())]
    File { account: String, path: PathBuf, source: std::io::Error },
    #[error("account {account}: {} can be read by others (mode {mode:o}); run `chmod 600 {}`", path.display(), path.display())]
    Readable { account: String, path: PathBuf, mode: u32 },
    #[error("account {account}: {} is empty", path.display())]
    EmptyFile { account: String, path: PathBuf },
}

/// Reads the account's token (Mastodon) or app password (Bluesky).
pub fn load(account: &Account) -> Result<Secret, SecretError> {
    let what = match account.network {
        crate::network::Network::Bluesky => "app password",
        _ => "access token",
    };
    read(&account.id, &account.secret, what)
}

/// Reads one secret from where the config says it is.
pub fn read(account: &str, source: &SecretSource, what: &'static str) -> Result<Secret, SecretError> {
    match source {
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(v) if v.trim().is_empty() => Err(SecretError::EmptyEnv { account: account.into(), var: var.clone() }),
            Ok(v) => Ok(Secret(v.trim().to_string())),
            Err(_) => Err(SecretError::MissingEnv { account: account.into(), var: var.clone(), what }),
        },
        SecretSource::File(path) => {
            let file_err = |source| SecretError::File { account: account.into(), path: path.clone(), source };
            #[cfg(unix)]
            {
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
    fn missing_variables_are_named() {
        let err = read("council", &SecretSource::Env("LH_SURELY_UNSET_VAR".into()), "access token").unwrap_err();
        assert_eq!(
            err.to_string(),
            "account council: the environment variable LH_SURELY_UNSET_VAR is not set (it should hold the access token)"
        );
    }
}
