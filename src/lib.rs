//! loudhailer amplifies a live event on social media.
pub mod schedule;
