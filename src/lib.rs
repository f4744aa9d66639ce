//! loudhailer amplifies a live event on social media.
pub mod compose;
pub mod config;
pub mod count;
pub mod job;
pub mod network;
pub mod plan;
pub mod schedule;
