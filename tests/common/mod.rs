//! Shared helpers for the integration tests: the peer servers, and driving the binary.
#![allow(dead_code)]

pub mod lh;
pub mod peers;
