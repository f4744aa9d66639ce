//! Reading a LinkedIn account's counts from the first source LinkedIn lets it read: an
//! organisation's share statistics or a member's post analytics, else social metadata (NOTES.md
//! §5); what none gives is unknown.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::Value;

use super::{wire, LinkedIn, READ_METADATA, READ_NONE, READ_PRIMARY};
use crate::metrics::{Counts, Reading};
use crate::platform::PlatformError;

impl LinkedIn {
    /// Counts of posts, from the first source LinkedIn lets this account read: the
    /// organisation's share statistics or the member's post analytics, else social metadata.
    pub(super) async fn read_counts(&self, posts: &[&str]) -> Result<Vec<Option<Reading>>, PlatformError> {
        let mut out: Vec<Option<Reading>> = vec![None; posts.len()];
        if posts.is_empty() {
            return Ok(out);
        }
        if self.reads.load(Ordering::Relaxed) <= READ_PRIMARY {
            let primary = match &self.organization {
                Some(org) => self.org_statistics(org, posts).await?,
                None => self.member_analytics(posts).await?,
            };
            match primary {
                Some(found) => {
                    self.reads.store(READ_PRIMARY, Ordering::Relaxed);
                    return Ok(found);
                }
                None => self.reads.store(READ_METADATA, Ordering::Relaxed),
            }
        }
        if self.reads.load(Ordering::Relaxed) == READ_METADATA {
            for (i, urn) in posts.iter().enumerate() {
                let reply = self
                    .call(Method::GET, &format!("/rest/socialMetadata/{}", wire::path_urn(urn)), None, None)
                    .await?;
                match reply.status.as_u16() {
                    200..=299 => out[i] = Some(Reading::Counts(wire::counts_from_metadata(&reply.json()?))),
                    404 => out[i] = Some(Reading::Gone),
                    403 => {
                        tracing::info!(account = %self.account, "LinkedIn lets this account read no counts (no r_member_postAnalytics, r_organization_social or rw_organization_admin): they show as unknown");
                        self.reads.store(READ_NONE, Ordering::Relaxed);
                        break;
                    }
                    _ => return Err(self.fail(&reply)),
                }
            }
        }
        Ok(out)
    }

    /// `organizationalEntityShareStatistics` (NOTES §5d); `None` when refused.
    async fn org_statistics(&self, org: &str, posts: &[&str]) -> Result<Option<Vec<Option<Reading>>>, PlatformError> {
        let shares: Vec<&str> = posts.iter().copied().filter(|u| wire::urn_kind(u) == Some("share")).collect();
        let ugc: Vec<&str> = posts.iter().copied().filter(|u| wire::urn_kind(u) == Some("ugcPost")).collect();
        let mut query = format!("?q=organizationalEntity&organizationalEntity={}", wire::query_urn(org));
        if !shares.is_empty() {
            query.push_str(&format!("&shares={}", wire::query_list(&shares)));
        }
        if !ugc.is_empty() {
            query.push_str(&format!("&ugcPosts={}", wire::query_list(&ugc)));
        }
        let reply =
            self.call(Method::GET, &format!("/rest/organizationalEntityShareStatistics{query}"), None, None).await?;
        if reply.status.as_u16() == 403 {
            return Ok(None);
        }
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let v: Value = reply.json()?;
        let found: Vec<(String, Counts)> =
            v["elements"].as_array().into_iter().flatten().filter_map(wire::counts_from_share_statistics).collect();
        Ok(Some(posts.iter().map(|p| found.iter().find(|(u, _)| u == p).map(|(_, c)| Reading::Counts(*c))).collect()))
    }

    /// `memberCreatorPostAnalytics` (NOTES §5c), one metric per call; `None` when refused.
    async fn member_analytics(&self, posts: &[&str]) -> Result<Option<Vec<Option<Reading>>>, PlatformError> {
        let mut out = Vec::with_capacity(posts.len());
        for urn in posts {
            let mut counts = Counts::default();
            let mut gone = false;
            for (kind, slot) in [("REACTION", 0), ("COMMENT", 1), ("RESHARE", 2), ("IMPRESSION", 3)] {
                let path = format!(
                    "/rest/memberCreatorPostAnalytics?q=entity&entity={}&queryType={kind}&aggregation=TOTAL",
                    wire::analytics_entity(urn)
                );
                let reply = self.call(Method::GET, &path, None, None).await?;
                match reply.status.as_u16() {
                    200..=299 => {
                        let n = wire::total_count(&reply.json()?);
                        match slot {
                            0 => counts.likes = n,
                            1 => counts.replies = n,
                            2 => counts.reposts = n,
                            _ => counts.views = n,
                        }
                    }
                    403 => return Ok(None),
                    404 => {
                        gone = true;
                        break;
                    }
                    _ => return Err(self.fail(&reply)),
                }
            }
            out.push(Some(if gone { Reading::Gone } else { Reading::Counts(counts) }));
        }
        Ok(Some(out))
    }
}
