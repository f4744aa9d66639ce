//! The desk's way to the engine: the same control channel the control socket feeds, so every
//! read and every change is answered in the engine's own loop, one at a time, and the engine
//! stays the one writer of the store.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::control::server::Envelope;
use crate::control::{Request, Response};

/// How long the desk waits for the engine's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the engine gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the daemon is stopping")]
    Stopping,
    #[error("the daemon did not answer within {}s", ANSWER_TIMEOUT.as_secs())]
    Timeout,
}

/// A handle on the engine's control channel.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::UnboundedSender<Envelope>,
}

impl Engine {
    pub fn new(tx: mpsc::UnboundedSender<Envelope>) -> Self {
        Engine { tx }
    }

    /// Sends one request and waits for its answer.
    pub async fn ask(&self, request: Request) -> Result<Response, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send((request, Some(tx))).map_err(|_| EngineError::Stopping)?;
        match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(EngineError::Stopping),
            Err(_) => Err(EngineError::Timeout),
        }
    }
}
