//! loudhailer amplifies a live event on social media.
pub mod cli;
pub mod clock;
pub mod compose;
pub mod config;
pub mod count;
pub mod engine;
pub mod job;
pub mod limit;
pub mod network;
pub mod plan;
pub mod platform;
pub mod schedule;
pub mod secret;
pub mod store;
