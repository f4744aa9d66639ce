//! Helpers shared by the integration tests (`mod common;` in each test file).
//!
//! `peers` starts and talks to the real servers loudhailer is tested against:
//! mastodon_mock for the Mastodon API and Bluesky's own PDS, PLC and AppView
//! for AT Protocol. Install them first with `scripts/peers install`. `lh` drives
//! the loudhailer binary. `proxy` sits between loudhailer and a server to watch, hold or
//! answer its requests; `outage` takes a server away. There is no X server to run: `xserver`
//! stands in for it, held to X's OpenAPI document by `openapi`. Nor is there one for LinkedIn,
//! Facebook Pages or Threads: `linkedin`, `facebook` and `threads` stand in for them, each holding
//! a client to its network's published material, on the plumbing of `loopback`. `photo` makes
//! test photos: a 12-megapixel phone JPEG full of metadata, and a transparent PNG. `shared` finds
//! the files of ../shared and says what could not be run without them.

// Each test binary uses only some of these helpers.
#![allow(dead_code, unused_imports)]

pub mod desk;
pub mod facebook;
pub mod lh;
pub mod linkedin;
pub mod litest;
pub mod loopback;
pub mod meta;
pub mod metatest;
pub mod openapi;
pub mod outage;
pub mod peers;
pub mod photo;
pub mod proxy;
pub mod shared;
pub mod threads;
pub mod xserver;
pub mod xtest;

pub use peers::{Atproto, Mastodon, TestAccount};
