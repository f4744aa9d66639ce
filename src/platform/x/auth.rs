//! Signing X requests: OAuth 1.0a user context (HMAC-SHA1, by `oauth1-request`) or an OAuth 2.0
//! bearer token, refreshed when it expires or is refused, one refresh at a time.

use std::sync::Arc;

use oauth1_request as oauth;
use reqwest::header::HeaderValue;
use tokio::sync::Mutex;
use url::Url;

use super::super::http::Http;
use super::super::PlatformError;
use super::oauth2::{self, Endpoint, Tokens};
use crate::clock::Clock;
use crate::secret::{OAuth1Keys, Secret};
use crate::sessions::Sessions;

/// How one account's requests are signed.
pub enum Signer {
    OAuth1(OAuth1Keys),
    OAuth2(Arc<Bearer>),
}

/// An OAuth 2.0 account's tokens: loaded from the store on first use, refreshed in place.
pub struct Bearer {
    pub account: String,
    pub endpoint: Endpoint,
    pub sessions: Arc<dyn Sessions>,
    pub clock: Clock,
    tokens: Mutex<Option<Tokens>>,
}

impl Bearer {
    pub fn new(account: &str, endpoint: Endpoint, sessions: Arc<dyn Sessions>, clock: Clock) -> Bearer {
        Bearer { account: account.to_string(), endpoint, sessions, clock, tokens: Mutex::new(None) }
    }

    fn no_tokens(&self) -> PlatformError {
        PlatformError::NoCredentials(format!(
            "no OAuth 2.0 tokens for account {} in the state dir; run `loudhailer login x --account {}`",
            self.account, self.account
        ))
    }

    /// The access token to send now: the stored one, refreshed first if it has expired.
    pub async fn access(&self, http: &Http) -> Result<Secret, PlatformError> {
        let mut guard = self.tokens.lock().await;
        if guard.is_none() {
            *guard = oauth2::load(self.sessions.as_ref(), &self.account).map_err(PlatformError::Retry)?;
        }
        let tokens = guard.as_ref().ok_or_else(|| self.no_tokens())?;
        if tokens.stale(self.clock.now()) {
            let fresh = self.refresh_locked(tokens, http).await?;
            *guard = Some(fresh);
        }
        guard.as_ref().map(|t| t.access.clone()).ok_or_else(|| self.no_tokens())
    }

    /// The server refused `used`: refresh, unless another request already did.
    pub async fn refused(&self, used: &Secret, http: &Http) -> Result<(), PlatformError> {
        let mut guard = self.tokens.lock().await;
        let Some(tokens) = guard.as_ref() else {
            return Err(self.no_tokens());
        };
        if &tokens.access != used {
            return Ok(());
        }
        let fresh = self.refresh_locked(tokens, http).await?;
        *guard = Some(fresh);
        Ok(())
    }

    /// Trades the refresh token for a new pair and stores the pair durably before returning it.
    async fn refresh_locked(&self, tokens: &Tokens, http: &Http) -> Result<Tokens, PlatformError> {
        let Some(refresh) = &tokens.refresh else {
            return Err(PlatformError::Auth {
                status: 401,
                message: format!(
                    "the OAuth 2.0 token of account {} expired and there is no refresh token (was offline.access granted?); run `loudhailer login x --account {}`",
                    self.account, self.account
                ),
            });
        };
        let fresh = oauth2::refresh(http, &self.endpoint, refresh, self.clock.now()).await?;
        // The old refresh token is dead now: the new pair must reach the disk before use.
        oauth2::save(self.sessions.as_ref(), &self.account, &fresh)
            .map_err(|e| PlatformError::Internal { message: format!("cannot store the refreshed X tokens: {e}") })?;
        tracing::info!(account = %self.account, "X OAuth 2.0 token refreshed and stored");
        Ok(fresh)
    }
}

/// The `Authorization` header of OAuth 1.0a for `method` on `url` (its query included in the
/// signature), marked sensitive.
pub fn oauth1_header(keys: &OAuth1Keys, method: &str, url: &Url) -> HeaderValue {
    let token = oauth::Token::from_parts(
        keys.consumer_key.expose(),
        keys.consumer_secret.expose(),
        keys.access_token.expose(),
        keys.access_secret.expose(),
    );
    let mut builder = oauth::Builder::with_token(token, oauth::HmacSha1::new());
    // X's own examples send oauth_version="1.0" (optional in RFC 5849).
    builder.version(true);
    sensitive(&builder.authorize(method, base_uri(url), &query_params(url)))
}

/// The base string URI of RFC 5849 §3.4.1.2: scheme, host, a port only when not the default,
/// and the path.
pub fn base_uri(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", url.scheme(), url.path())
}

fn query_params(url: &Url) -> oauth::ParameterList<String, String> {
    oauth::ParameterList::new(url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect::<Vec<_>>())
}

pub fn sensitive(value: &str) -> HeaderValue {
    let mut v = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    v.set_sensitive(true);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(keys: [&str; 4], nonce: &str, timestamp: u64, method: &str, url: &str) -> String {
        sign_v(keys, nonce, timestamp, method, url, false)
    }

    fn sign_v(keys: [&str; 4], nonce: &str, timestamp: u64, method: &str, url: &str, version: bool) -> String {
        let token = oauth::Token::from_parts(keys[0], keys[1], keys[2], keys[3]);
        let mut builder = oauth::Builder::with_token(token, oauth::HmacSha1::new());
        builder.nonce(nonce).timestamp(std::num::NonZeroU64::new(timestamp)).version(version);
        let url = Url::parse(url).unwrap();
        builder.authorize(method, base_uri(&url), &query_params(&url))
    }

    fn signature(header: &str) -> &str {
        let start = header.find("oauth_signature=\"").unwrap() + "oauth_signature=\"".len();
        &header[start..start + header[start..].find('"').unwrap()]
    }

    #[test]
    fn rfc_5849_example() {
        // RFC 5849 §1.2: printer's request for the vacation photo.
        let h = sign(
            ["dpf43f3p2l4k3l03", "kd94hf93k423kf44", "nnch734d00sl2jdk", "pfkkdhi9sl3r4s00"],
            "chapoH",
            137131202,
            "GET",
            "http://photos.example.net/photos?file=vacation.jpg&size=original",
        );
        assert_eq!(signature(&h), "MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D", "{h}");
    }

    #[test]
    fn xs_documented_example() {
        // X's "Creating a signature" page (with oauth_version="1.0"): the status, a form field
        // there, signs exactly like a query parameter.
        let h = sign_v(
            [
                "xvz1evFS4wEEPTGEFPHBog",
                "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
                "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
            ],
            "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
            1318622958,
            "POST",
            "https://api.twitter.com/1.1/statuses/update.json?include_entities=true&status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21",
            true,
        );
        assert_eq!(signature(&h), "hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", "{h}");
    }

    #[test]
    fn the_query_is_signed_and_the_base_uri_is_normalised() {
        let keys = ["ck", "cs", "at", "as"];
        let a = sign(keys, "n", 1, "GET", "https://api.x.com/2/tweets?ids=1%2C2&post.fields=public_metrics");
        let b = sign(keys, "n", 1, "GET", "https://api.x.com/2/tweets?ids=1%2C3&post.fields=public_metrics");
        assert_ne!(signature(&a), signature(&b));
        assert_eq!(base_uri(&Url::parse("HTTPS://API.X.COM:443/2/tweets?x=1").unwrap()), "https://api.x.com/2/tweets");
        assert_eq!(base_uri(&Url::parse("http://127.0.0.1:8080/2/tweets").unwrap()), "http://127.0.0.1:8080/2/tweets");
    }
}
