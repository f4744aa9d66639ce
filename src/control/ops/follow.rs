//! The operations behind amplifying what people post by hand: taking in what a `[[follow]]`
//! watch found, and scheduling a repost of a post named by its address.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::{refused, Book, Outcome};
use crate::address;
use crate::config::Watch;
use crate::control::{ControlError, Response};
use crate::follow::crosspost::{self, Target};
use crate::follow::{self, Seen, WatchState};
use crate::job::{JobId, JobRecord, Origin};

impl Book<'_> {
    /// Records what a watch found: each new post not loudhailer's own becomes a done external
    /// job and its boosts; then the watch's position is stored. A post seen before plans nothing.
    pub(super) fn found(&mut self, key: &str, posts: &[Seen], state: &WatchState) -> Result<Outcome, ControlError> {
        let Some(watch) = self.config.follows.iter().find(|w| w.key == key) else {
            return Err(refused(format!("no [[follow]] watches {key:?}")));
        };
        let (delay, jitter) = (self.config.amplify.delay, self.config.amplify.jitter);
        let mut records: Vec<JobRecord> = Vec::new();
        let (mut again, mut ours, mut copied) = (0, 0, 0);
        // What could be loudhailer's own post: the posts it made or found.
        let mut posts_made: Option<Vec<JobRecord>> = None;
        for post in posts {
            let id = follow::job_id(watch.network, &post.key);
            if self.store.job(&id)?.is_some() || records.iter().any(|r| r.spec.id == id) {
                again += 1;
                continue;
            }
            let made = match &mut posts_made {
                Some(m) => m,
                None => posts_made.insert(self.store.jobs_where(|j| j.spec.kind.has_post())?),
            };
            if follow::is_ours(watch, post, made.iter()) {
                ours += 1;
                continue;
            }
            info!(watch = %key, job = %id, url = post.remote.url.as_deref().unwrap_or(""), "a post made by hand: boosting it");
            records.extend(follow::found_jobs(watch, post, self.now, delay, jitter));
            // Its copies go in the same write as the post's own job: once that is stored, the
            // post is "seen before" and nothing is copied again.
            if crosspost::copied(watch, &self.config.event.hashtags, post) {
                match self.crosspost(watch, post) {
                    Ok(copies) => {
                        copied += usize::from(!copies.is_empty());
                        records.extend(copies);
                    }
                    Err(e) => warn!(watch = %key, job = %id, error = %e, "cannot copy the post to the other networks"),
                }
            }
        }
        let new = records.iter().filter(|r| r.spec.origin == Origin::Followed && r.spec.parent.is_none()).count();
        let changed = self.write(records)?;
        self.store.put_watch_state(key, state)?;
        let mut message = format!("{key}: {new} new posts to boost ({again} seen before, {ours} loudhailer's own)");
        if copied > 0 {
            message.push_str(&format!("; {copied} copied to the other networks"));
        }
        Ok(Outcome { response: Response::message(message), changed, accounts: false, replan: false })
    }

    /// The copies of a post typed by hand on the watch's network, for the primary accounts on
    /// the other networks: composed and split for each, a reply in the thread of the session
    /// under way there (standalone outside sessions), boosted per `[amplify]`.
    fn crosspost(&self, watch: &Watch, post: &Seen) -> Result<Vec<JobRecord>, ControlError> {
        let scope = crosspost::scope(watch.network, &post.key);
        let session = self.session_under_way()?;
        let thread_jobs = match &session {
            Some(s) => self.session_jobs(s)?,
            None => Vec::new(),
        };
        let mut targets = Vec::new();
        for (account, _, pieces) in self.say_pieces(&scope, &post.text)? {
            if account.network == watch.network {
                continue;
            }
            let (parent, root) = match &session {
                Some(_) => self.thread_tail(&thread_jobs, &account.id),
                None => (None, None),
            };
            targets.push(Target {
                account: account.id.clone(),
                pieces,
                parent,
                root,
                language: account.language.clone().or_else(|| self.config.event.language.clone()),
                amplifiers: self
                    .config
                    .amplifiers()
                    .filter(|a| a.network == account.network)
                    .map(|a| a.id.clone())
                    .collect(),
            });
        }
        let (delay, jitter) = (self.config.amplify.delay, self.config.amplify.jitter);
        Ok(crosspost::copy_jobs(&scope, session.as_deref(), targets, self.now, delay, jitter))
    }

    /// Schedules a repost of the post at `url` at `at` (now when none) from `accounts` (every
    /// amplifier on the post's network when none).
    pub(super) fn repost(
        &mut self,
        url: &str,
        at: Option<DateTime<Utc>>,
        accounts: &[String],
    ) -> Result<Outcome, ControlError> {
        let address = address::parse(url).map_err(refused)?;
        let network = address.network();
        for a in accounts {
            match self.config.account(a) {
                None => return Err(refused(format!("no account {a:?} in the config"))),
                Some(x) if x.network != network => {
                    return Err(refused(format!("{a} is on {}, but the post is on {network}", x.network)))
                }
                Some(_) => {}
            }
        }
        let accounts: Vec<String> = if accounts.is_empty() {
            self.config.amplifiers().filter(|a| a.network == network).map(|a| a.id.clone()).collect()
        } else {
            accounts.to_vec()
        };
        if accounts.is_empty() {
            return Err(refused(format!("the post is on {network}, where no amplifier account would repost it")));
        }
        let at = at.unwrap_or(self.now);
        let tz = self.config.event.timezone;
        let specs = crate::plan::repost_jobs(url, at, &accounts, Origin::Scheduled, tz);
        let head: JobId = specs[0].id.clone();
        if let Some(old) = self.store.job(&head)? {
            return Err(refused(format!("{head} already reposts it then ({})", old.state.as_str())));
        }
        let changed = self.write(specs.into_iter().map(JobRecord::new).collect())?;
        let local = at.with_timezone(&tz).format("%Y-%m-%d %H:%M");
        let message = format!("reposting {url} at {local} from {} ({head})", accounts.join(", "));
        Ok(Outcome { response: Response::message(message), changed, accounts: false, replan: false })
    }
}
