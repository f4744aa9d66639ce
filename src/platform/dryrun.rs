//! A stand-in network for `run --dry-run`: prints each post as it would appear, with its
//! account and time, and sends nothing.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{no_photos, BoostRequest, Platform, PlatformError, PostRequest, UnboostRequest, Upload};
use crate::address::Address;
use crate::clock::Clock;
use crate::config::Watch;
use crate::count::Counter;
use crate::follow::{Cursor, Recent};
use crate::job::{MediaRef, RemoteRef};
use crate::media::Limits;
use crate::metrics::{Counts, Reading};
use crate::network::Network;

/// Numbers the pretend posts across every dry-run account, so replies can name their parent.
pub type Counter64 = Arc<AtomicU64>;

pub struct DryRun {
    account: String,
    network: Network,
    server: url::Url,
    clock: Clock,
    tz: Tz,
    next: Counter64,
    /// Tests: what the next posts do instead of succeeding.
    #[cfg(test)]
    pub script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Scripted>>>,
    /// Tests: what was done, in order: `upload <id> <w>x<h> <alt>`, `post <text> [<media ids>]`.
    #[cfg(test)]
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Tests: uploads the server has forgotten, by id.
    #[cfg(test)]
    pub forgotten: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Tests: what a scripted post does.
#[cfg(test)]
#[derive(Debug, Clone)]
pub enum Scripted {
    /// The worker sending it panics with this message.
    Panic(&'static str),
    /// The server answers this.
    Fail(PlatformError),
}

impl DryRun {
    pub fn new(account: &str, network: Network, server: url::Url, clock: Clock, tz: Tz, next: Counter64) -> DryRun {
        DryRun {
            account: account.to_string(),
            network,
            server,
            clock,
            tz,
            next,
            #[cfg(test)]
            script: Default::default(),
            #[cfg(test)]
            log: Default::default(),
            #[cfg(test)]
            forgotten: Default::default(),
        }
    }

    fn stamp(&self) -> String {
        self.clock.now().with_timezone(&self.tz).format("%H:%M:%S").to_string()
    }

    fn made(&self) -> RemoteRef {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        RemoteRef { id: format!("#{n}"), url: Some(format!("{}dry-run/{n}", self.server)), uri: None, cid: None }
    }

    #[cfg(test)]
    fn note(&self, line: String) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    #[cfg(not(test))]
    fn note(&self, _line: String) {}

    fn print(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (piped into head) must not stop the run.
        let _ = writeln!(out, "{line}");
    }
}

impl Platform for DryRun {
    fn network(&self) -> Network {
        self.network
    }

    async fn verify(&self) -> Result<String, PlatformError> {
        Ok(format!("dry-run:{}", self.account))
    }

    async fn limits(&self) -> Result<Counter, PlatformError> {
        Ok(Counter::default_for(self.network))
    }

    fn new_key(&self, now: DateTime<Utc>) -> String {
        format!("dry-{}", now.timestamp_micros())
    }

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        #[cfg(test)]
        {
            let next = self.script.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
            match next {
                Some(Scripted::Panic(message)) => panic!("{message}"),
                Some(Scripted::Fail(e)) => return Err(e),
                None => {}
            }
        }
        let made = self.made();
        let context = match req.reply_to {
            Some(parent) => format!("reply to {}", parent.id),
            None => "post".to_string(),
        };
        let mut text = String::new();
        for line in req.text.lines() {
            text.push_str("\n    ");
            text.push_str(line);
        }
        for image in req.images {
            let alt = if image.alt.is_empty() { "decorative".to_string() } else { format!("alt: {}", image.alt) };
            text.push_str(&format!(
                "\n    [image {} {}×{}, {alt}]",
                image.media.id, image.media.width, image.media.height
            ));
        }
        let ids: Vec<&str> = req.images.iter().map(|i| i.media.id.as_str()).collect();
        self.note(format!("post {} [{}]", req.text, ids.join(" ")));
        self.print(&format!("{}  {} on {}: {} {}{text}", self.stamp(), self.account, self.network, context, made.id));
        Ok(made)
    }

    /// The network's published limits (a Mastodon server's own are not asked for).
    async fn image_limits(&self) -> Result<Limits, PlatformError> {
        Ok(match self.network {
            Network::Mastodon => Limits::mastodon_default(),
            Network::Bluesky => Limits::bluesky(),
            Network::X => Limits::x(),
            Network::LinkedIn | Network::Facebook | Network::Threads => return Err(no_photos(self.network)),
        })
    }

    /// Made for real and shown, not sent: the dry run proves each image can be made to fit.
    async fn upload(&self, upload: &Upload<'_>) -> Result<MediaRef, PlatformError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let image = upload.image;
        let media = MediaRef {
            id: format!("img{n}"),
            blob: None,
            width: image.width,
            height: image.height,
            at: self.clock.now(),
            expires: None,
        };
        self.note(format!("upload {} {}x{} {}", media.id, image.width, image.height, upload.alt));
        self.print(&format!(
            "{}  {} on {}: image {} ready: {}×{} {}, {} bytes, no metadata",
            self.stamp(),
            self.account,
            self.network,
            media.id,
            image.width,
            image.height,
            image.mime,
            image.bytes.len()
        ));
        Ok(media)
    }

    async fn media_alive(&self, _media: &MediaRef) -> Result<bool, PlatformError> {
        #[cfg(test)]
        if self.forgotten.lock().unwrap_or_else(|e| e.into_inner()).contains(&_media.id) {
            return Ok(false);
        }
        Ok(true)
    }

    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        self.print(&format!("{}  {} on {}: boost {}", self.stamp(), self.account, self.network, req.target.id));
        Ok(RemoteRef { id: format!("boost of {}", req.target.id), url: req.target.url.clone(), uri: None, cid: None })
    }

    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        // Nothing was posted, so nobody engaged.
        let none = Counts { likes: Some(0), reposts: Some(0), replies: Some(0), quotes: Some(0), views: None };
        Ok(posts.iter().map(|_| Reading::Counts(none)).collect())
    }

    /// Nobody posts by hand in a dry run.
    async fn recent(&self, _watch: &Watch, after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        Ok(Recent { posts: Vec::new(), cursor: after.cloned() })
    }

    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.print(&format!("{}  {} on {}: look up {address:?}", self.stamp(), self.account, self.network));
        Ok(RemoteRef { id: format!("#{n}"), url: Some(format!("{}dry-run/{n}", self.server)), uri: None, cid: None })
    }

    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if !req.earlier.is_empty() {
            self.print(&format!(
                "{}  {} on {}: undo boost {}",
                self.stamp(),
                self.account,
                self.network,
                req.target.id
            ));
        }
        Ok(req.target.clone())
    }
}
