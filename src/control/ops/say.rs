//! `say`: an ad-hoc post from the primary accounts, boosted like the rest, with up to four
//! images; and [`keep_photo`], where a photo sent by another way than a file (the live desk's
//! upload) is kept so a `say` can name it.

use std::path::{Path, PathBuf};

use super::{refused, Book, Outcome};
use crate::compose::Composer;
use crate::control::{ControlError, Response};
use crate::job::{Image, JobId, JobKind, JobRecord, JobSpec, JobState, Origin, MAX_IMAGES};
use crate::media::{self, AltCheck, AltLimit};
use crate::plan;
use crate::words::and_list;

impl Book<'_> {
    pub(super) fn say(
        &mut self,
        text: &str,
        thread: Option<&str>,
        key: Option<&str>,
        images: &[Image],
    ) -> Result<Outcome, ControlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(refused("say what? the text is empty"));
        }
        let session = thread.map(|s| self.session_id(s)).transpose()?;
        let scope = match key {
            Some(key) => {
                let scope = super::say_scope(key)?;
                let earlier = self.store.jobs_with_prefix(&format!("{scope}."))?;
                if !earlier.is_empty() {
                    return Ok(Outcome {
                        response: Response {
                            posts: Some(post_ids(&earlier)),
                            ..Response::message(format!("already said ({}), nothing more posted", said(&earlier)))
                        },
                        ..Default::default()
                    });
                }
                scope
            }
            None => format!("say{}", self.store.next_number("say")?),
        };
        // Checked after a repeated key (which posts nothing), before anything is planned.
        let images = self.checked_images(images)?;
        let thread_jobs = match &session {
            Some(s) => self.session_jobs(s)?,
            None => Vec::new(),
        };
        let mut records = Vec::new();
        for (account, _, pieces) in self.say_pieces(&scope, text)? {
            // In a thread: answer the session's last post on this account.
            let (mut parent, root) = match &session {
                Some(_) => self.thread_tail(&thread_jobs, &account.id),
                None => (None, None),
            };
            let language = account.language.clone().or_else(|| self.config.event.language.clone());
            for (i, mut piece) in pieces.into_iter().enumerate() {
                // The images go with the first post (a continuation carries text alone).
                if i == 0 && account.network.takes_photos() {
                    piece.images = images.clone();
                }
                let item = if i == 0 { "post".to_string() } else { format!("post-{}", i + 1) };
                let id = JobId::post(&scope, &item, &account.id);
                let spec = JobSpec {
                    id: id.clone(),
                    kind: if parent.is_some() { JobKind::Reply } else { JobKind::Say },
                    account: account.id.clone(),
                    session: session.clone(),
                    at: self.now,
                    text: Some(piece.text),
                    parent: parent.clone(),
                    root: root.clone().or_else(|| parent.clone()),
                    language: language.clone(),
                    origin: Origin::Manual,
                    thread: None,
                    author: None,
                    url: None,
                    images: piece.images,
                };
                for amp in self.config.amplifiers().filter(|a| a.network == account.network) {
                    records.push(JobRecord::new(plan::boost(
                        &spec,
                        &amp.id,
                        self.config.amplify.delay,
                        self.config.amplify.jitter,
                    )));
                }
                let mut r = JobRecord::new(spec);
                r.pinned_at = Some(self.now);
                records.push(r);
                parent = Some(id);
            }
        }
        if records.is_empty() {
            return Err(refused("no primary account to say it from"));
        }
        let (what, posts) = (said(&records), post_ids(&records));
        let changed = self.write(records)?;
        let place = match &session {
            Some(s) => match self.config.session(s) {
                Some(found) => format!(" in the thread of \u{201c}{}\u{201d}", found.title),
                None => format!(" in the thread of {s}"),
            },
            None => String::new(),
        };
        Ok(Outcome {
            response: Response { posts: Some(posts), ..Response::message(format!("saying it now{place}: {what}")) },
            changed,
            accounts: false,
            replan: false,
        })
    }

    /// What `text` becomes on each primary account: the account, the counter its posts are
    /// measured with, and the pieces (more than one when it is too long for one post).
    pub(super) fn say_pieces(&self, scope: &str, text: &str) -> Result<Vec<super::SayPieces<'_>>, ControlError> {
        let composer = Composer::new(&self.config.compose, &self.config.event.hashtags, self.config.event.timezone)
            .map_err(|e| refused(e.to_string()))?;
        let counters = plan::counters(self.config, &self.store.known_counters()?);
        let mut out = Vec::new();
        for account in self.config.primaries() {
            let Some(counter) = counters.get(&account.id) else { continue };
            let pieces = composer.note(scope, text, self.now, counter).map_err(|e| refused(e.to_string()))?;
            out.push((account, *counter, pieces));
        }
        Ok(out)
    }

    /// The last post of a session's thread on an account (to reply to), and its head.
    pub(super) fn thread_tail(&self, jobs: &[JobRecord], account: &str) -> (Option<JobId>, Option<JobId>) {
        let mut posts: Vec<&JobRecord> = jobs
            .iter()
            .filter(|j| j.spec.account == account && j.spec.kind != JobKind::Boost)
            .filter(|j| !matches!(j.state, JobState::Cancelled | JobState::Failed))
            .collect();
        posts.sort_by(|a, b| a.ready_at().cmp(&b.ready_at()).then_with(|| a.spec.id.cmp(&b.spec.id)));
        // Prefer what already went out; before anything has, answer the thread's head (which
        // goes at the session's start), not its last planned point.
        let tail = posts.iter().rev().find(|j| j.state == JobState::Done).or(posts.first());
        let head = posts.iter().find(|j| j.spec.parent.is_none()).map(|j| j.spec.id.clone());
        (tail.map(|j| j.spec.id.clone()), head)
    }

    /// The images of a `say`, checked as `check` checks the config's: at most four, each a
    /// complete image file (named by its full path) within `[media] max_file_bytes`, with alt
    /// text every primary account's network takes. Reads each file's header here, once.
    fn checked_images(&self, images: &[Image]) -> Result<Vec<Image>, ControlError> {
        if images.len() > MAX_IMAGES {
            return Err(refused(format!("{} images: a post carries at most {MAX_IMAGES}", images.len())));
        }
        let mut networks: Vec<_> = self.config.primaries().map(|a| a.network).collect();
        networks.sort_by_key(|n| n.as_str());
        networks.dedup();
        let mut out = Vec::with_capacity(images.len());
        for image in images {
            let path = image.path();
            if !path.is_absolute() {
                return Err(refused(format!("{}: give the image's full path", image.file)));
            }
            let bytes = media::read(path, self.config.media.max_file_bytes).map_err(|e| refused(e.to_string()))?;
            media::inspect(&bytes).map_err(|e| refused(format!("{}: {e}", image.file)))?;
            for network in &networks {
                match media::check_alt(Some(&image.alt), AltLimit::of(*network)) {
                    Ok(AltCheck::Described { .. }) => {}
                    Ok(AltCheck::Decorative) => {
                        tracing::warn!(file = %image.file, "an image without alt text: screen readers will skip it")
                    }
                    Err(e) => return Err(refused(format!("{}: {e}", image.file))),
                }
            }
            out.push(image.clone());
        }
        Ok(out)
    }
}

/// Keeps a photo given as bytes (a browser's upload) in the state dir's `photos/` folder, under
/// its digest, readable by its owner only, once it is checked to be a complete image within
/// `cap` bytes; returns the file to name in a `say` (with its alt text, as an [`Image`]).
pub fn keep_photo(state_dir: &Path, bytes: &[u8], cap: u64) -> Result<PathBuf, ControlError> {
    if bytes.len() as u64 > cap {
        let size = Some(bytes.len() as u64);
        return Err(refused(format!("the photo: {}", media::MediaError::FileTooLarge { size, cap })));
    }
    let seen = media::inspect(bytes).map_err(|e| refused(format!("the photo: {e}")))?;
    let ext = match seen.format {
        media::Format::Jpeg => "jpg",
        media::Format::Png => "png",
        media::Format::WebP => "webp",
        media::Format::Gif => "gif",
    };
    let dir = state_dir.join("photos");
    let failed = |e: std::io::Error| refused(format!("cannot keep the photo in {}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let path = dir.join(format!("{}.{ext}", &media::digest(bytes, "")[..32]));
    if !path.exists() {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(failed)?;
        file.write_all(bytes).and_then(|()| file.sync_all()).map_err(failed)?;
    }
    Ok(path)
}

/// What a `say` posts, in a delegate's words: how many posts from which account, and who
/// amplifies them ("2 posts from delegate on mastodon and 1 from delegate-bsky on bluesky,
/// amplified by council"). Job ids stay out of it: `status` shows them to whoever needs them.
fn said(records: &[JobRecord]) -> String {
    let mut posts: Vec<(&str, usize)> = Vec::new();
    let mut amplifiers: Vec<&str> = Vec::new();
    for r in records {
        let account = r.spec.account.as_str();
        if r.spec.kind == JobKind::Boost {
            if !amplifiers.contains(&account) {
                amplifiers.push(account);
            }
            continue;
        }
        match posts.iter_mut().find(|(a, _)| *a == account) {
            Some((_, n)) => *n += 1,
            None => posts.push((account, 1)),
        }
    }
    let parts: Vec<String> = posts
        .iter()
        .enumerate()
        .map(|(i, (account, n))| match (i, n) {
            (0, 1) => format!("1 post from {account}"),
            (0, n) => format!("{n} posts from {account}"),
            (_, n) => format!("{n} from {account}"),
        })
        .collect();
    let mut text = and_list(&parts);
    if !amplifiers.is_empty() {
        text.push_str(&format!(", amplified by {}", and_list(&amplifiers)));
    }
    text
}

/// The posts among `records` (not their boosts), in order.
fn post_ids(records: &[JobRecord]) -> Vec<JobId> {
    records.iter().filter(|r| r.spec.kind != JobKind::Boost).map(|r| r.spec.id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, kind: JobKind, account: &str) -> JobRecord {
        JobRecord::new(JobSpec {
            id: JobId(id.into()),
            kind,
            account: account.into(),
            session: None,
            at: chrono::DateTime::UNIX_EPOCH,
            text: Some("x".into()),
            parent: None,
            root: None,
            language: None,
            origin: Origin::Manual,
            thread: None,
            author: None,
            url: None,
            images: Vec::new(),
        })
    }

    #[test]
    fn what_was_said_names_accounts_and_counts_not_ids() {
        let records = vec![
            record("say3.post.masto+org", JobKind::Boost, "org"),
            record("say3.post.masto", JobKind::Say, "masto"),
            record("say3.post-2.masto+org", JobKind::Boost, "org"),
            record("say3.post-2.masto", JobKind::Reply, "masto"),
            record("say3.post.sky+org-sky", JobKind::Boost, "org-sky"),
            record("say3.post.sky", JobKind::Say, "sky"),
            record("say3.post.x", JobKind::Say, "x"),
        ];
        assert_eq!(said(&records), "2 posts from masto, 1 from sky and 1 from x, amplified by org and org-sky");
        assert_eq!(said(&records[1..2]), "1 post from masto");
    }
}
