//! loudhailer amplifies a live event on social media: it posts each session's title and key
//! points as a thread from the delegate's accounts, boosts them from organisation accounts, and
//! keeps every intent and outcome on disk so nothing is lost or sent twice.
//!
//! # Layout
//!
//! Pure, with the clock passed in (no I/O):
//! - [`config`]: TOML text → a validated [`config::Config`], every problem with file, line and key.
//! - [`schedule`]: the session model, and readers for the formats conferences publish.
//! - [`compose`]: sessions → post texts: templates, hashtags, mentions, threads, splitting.
//! - [`count`]: post length as each network counts it.
//! - [`checked`]: time arithmetic on outside values, checked or capped, never a panic.
//! - [`plan`]: config + sessions → jobs with stable ids and due times; merging a new plan in.
//! - [`cost`]: what the plan costs where a network bills each request (X).
//! - [`media`]: photos made ready to post: decoded, turned upright, stripped of all metadata and
//!   re-encoded to each network's limits; alt text checked as each network counts it (only
//!   [`media::read`] touches the disk).
//! - [`follow`]: which hand-made posts are boosted, and the jobs a found post or a scheduled
//!   repost becomes; [`address`]: a post's link → its network and id.
//! - [`job`], [`metrics`], [`network`]: the plain data the rest passes around.
//!
//! At the edges:
//! - [`engine`]: the daemon: sleeps until the next deadline, sends (a post's photos uploaded
//!   first, each upload stored with its intent), records; the one place that sleeps, sends and
//!   writes.
//! - [`control`]: the control socket of a running daemon, and the operations it takes (shared
//!   with the CLI when no daemon runs).
//! - [`desk`]: the live desk, a web page served beside the engine for running the event from a
//!   phone; it reads and acts through the engine's control channel.
//! - [`published`]: a programme published at an address, fetched with conditional requests and
//!   kept as a last good copy in the state dir (its rules pure, its fetching and files I/O).
//! - [`limit`]: rate limits in one place: one limiter per account, tightened by the server.
//! - [`platform`]: the [`platform::Platform`] trait, one module per network.
//! - [`report`]: engagement collected at checkpoints after posting, and the post-event report
//!   (built purely from stored jobs and snapshots; one formatter per output).
//! - [`store`]: sled behind domain methods; checksummed, versioned records; export/import.
//! - [`secret`]: credentials from the environment or owner-only files, never printed.
//! - [`sessions`]: the one slot a network client keeps across restarts (sessions, tokens).
//! - [`clock`]: the wall clock, or a sped-up one for demos and tests.
//! - [`heap`]: freed heap given back to the system after start-up.
//! - [`cli`]: one file per subcommand; maps errors to exit codes.
pub mod address;
pub mod checked;
pub mod cli;
pub mod clock;
pub mod compose;
pub mod config;
pub mod control;
pub mod cost;
pub mod count;
pub mod desk;
pub mod engine;
pub mod follow;
pub mod heap;
pub mod job;
pub mod limit;
pub mod media;
pub mod metrics;
pub mod network;
pub mod parts;
pub mod plan;
pub mod platform;
pub mod published;
pub mod report;
pub mod schedule;
pub mod secret;
pub mod sessions;
pub mod store;
pub mod words;
