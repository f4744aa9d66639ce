//! The config file as written: the top-level table, each section's raw form owned by its own
//! module. serde refuses unknown keys and keeps each value's span.

use serde::Deserialize;

use super::account::RawAccount;
use super::amplify::{RawAmplify, RawRun};
use super::compose::RawCompose;
use super::desk::RawDesk;
use super::event::RawEvent;
use super::follow::{RawFollow, RawRepost};
use super::media::RawMedia;
use super::networks::{RawFacebook, RawLinkedIn, RawThreads};
use super::recurring::RawRecurring;
use super::report::RawReport;
use super::session::RawSession;
use super::snippet::RawSnippet;
use super::values::S;
use crate::schedule::ImportOptions;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub event: S<RawEvent>,
    #[serde(default)]
    pub account: Vec<S<RawAccount>>,
    #[serde(default)]
    pub amplify: Option<RawAmplify>,
    #[serde(default)]
    pub session: Vec<S<RawSession>>,
    #[serde(default)]
    pub recurring: Vec<S<RawRecurring>>,
    #[serde(default)]
    pub state: Option<RawState>,
    #[serde(default)]
    pub compose: Option<RawCompose>,
    #[serde(default)]
    pub run: Option<RawRun>,
    #[serde(default)]
    pub schedule: Option<S<ImportOptions>>,
    #[serde(default)]
    pub report: Option<RawReport>,
    #[serde(default)]
    pub follow: Vec<S<RawFollow>>,
    #[serde(default)]
    pub repost: Vec<S<RawRepost>>,
    #[serde(default)]
    pub media: Option<RawMedia>,
    #[serde(default)]
    pub desk: Option<S<RawDesk>>,
    #[serde(default)]
    pub snippet: Vec<S<RawSnippet>>,
    #[serde(default)]
    pub linkedin: Option<RawLinkedIn>,
    #[serde(default)]
    pub facebook: Option<RawFacebook>,
    #[serde(default)]
    pub threads: Option<RawThreads>,
}

/// `[state]`: where the store lives.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    #[serde(default)]
    pub dir: Option<S<String>>,
}
