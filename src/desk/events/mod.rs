//! `GET /events`: server-sent events that keep an open desk page up to date without reloads.
//!
//! One task (the hub) asks the engine for the desk's view every few seconds while a page is
//! open, and at once after an action; it renders the page's parts and publishes them. Each
//! open page gets only the parts that changed since it last heard, as one `parts` event
//! (`{"element id": "html", …}`). Each page's session is checked again with every change and at
//! least every half minute: after `loudhailer desk revoke` the stream says `signed-out` and ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::auth::SessionDigest;
use super::engine::Engine;
use super::pages::{model::Page, Pages, REGIONS};
use super::{answer, Shared};
use crate::control::Request;

/// How often an open page is brought up to date when nothing asks for it sooner.
pub const REFRESH: Duration = Duration::from_secs(5);
/// How often a quiet stream checks that its session is still open.
pub const RECHECK: Duration = Duration::from_secs(30);
/// How many pages may follow the desk at once.
pub const MAX_STREAMS: usize = 16;

/// The latest rendering of the page's parts.
#[derive(Debug, Default)]
pub struct Parts {
    pub html: HashMap<&'static str, String>,
}

/// What every open page follows.
#[derive(Clone)]
pub struct Hub {
    parts: watch::Sender<Arc<Parts>>,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
}

impl Hub {
    /// Starts the task that reads the view while a page is open.
    pub fn start(engine: Engine, pages: Arc<Pages>, tasks: &TaskTracker, stop: &CancellationToken) -> Hub {
        let (parts, _) = watch::channel(Arc::new(Parts::default()));
        let hub = Hub { parts, wake: Arc::new(Notify::new()), slots: Arc::new(Semaphore::new(MAX_STREAMS)) };
        let me = hub.clone();
        let stop = stop.clone();
        tasks.spawn(async move {
            loop {
                // With no page open the hub sleeps until one opens: an idle desk never wakes.
                let watched = me.parts.receiver_count() > 0;
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = me.wake.notified() => {}
                    _ = async {
                        if watched {
                            tokio::time::sleep(REFRESH).await
                        } else {
                            std::future::pending().await
                        }
                    } => {}
                }
                // Nobody watching: read nothing.
                if me.parts.receiver_count() == 0 {
                    continue;
                }
                let answer = match engine.ask(Request::Desk { upcoming: crate::control::view::DEFAULT_UPCOMING }).await
                {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::debug!(error = %e, "the desk's view could not be read");
                        continue;
                    }
                };
                let Some(view) = &answer.desk else { continue };
                let page = Page::new(view, &answer, None);
                let html = REGIONS.iter().map(|(id, template)| (*id, pages.part(template, &page))).collect();
                me.parts.send_if_modified(|old| {
                    if old.html == html {
                        return false;
                    }
                    *old = Arc::new(Parts { html });
                    true
                });
            }
        });
        hub
    }

    /// Asks for a fresh view now (after an action).
    pub fn refresh(&self) {
        self.wake.notify_one();
    }
}

/// One page's stream: what it has been sent, and whether it is over.
struct Follower {
    parts: watch::Receiver<Arc<Parts>>,
    sent: HashMap<&'static str, String>,
    engine: Engine,
    session: String,
    first: bool,
    over: bool,
    _slot: OwnedSemaphorePermit,
}

impl Follower {
    async fn session_open(&self) -> bool {
        matches!(self.engine.ask(Request::DeskCheck { session: self.session.clone() }).await, Ok(r) if r.ok)
    }

    /// The next event: the parts that changed, or the end of the session.
    async fn next(&mut self) -> Option<Event> {
        if self.over {
            return None;
        }
        loop {
            if !self.first {
                tokio::select! {
                    changed = self.parts.changed() => if changed.is_err() { return None },
                    _ = tokio::time::sleep(RECHECK) => {
                        if !self.session_open().await {
                            self.over = true;
                            return Some(Event::default().event("signed-out").data("signed out"));
                        }
                        continue;
                    }
                }
            }
            self.first = false;
            if !self.session_open().await {
                self.over = true;
                return Some(Event::default().event("signed-out").data("signed out"));
            }
            let latest = self.parts.borrow_and_update().clone();
            let mut changed = serde_json::Map::new();
            for (id, html) in &latest.html {
                if self.sent.get(id) != Some(html) {
                    changed.insert((*id).to_string(), serde_json::Value::String(html.clone()));
                    self.sent.insert(id, html.clone());
                }
            }
            if !changed.is_empty() {
                return Some(Event::default().event("parts").data(serde_json::Value::Object(changed).to_string()));
            }
        }
    }
}

pub async fn stream(State(shared): State<Shared>, session: Option<Extension<SessionDigest>>) -> Response {
    let Some(Extension(SessionDigest(session))) = session else {
        return answer(StatusCode::UNAUTHORIZED, false, "not signed in");
    };
    let Ok(slot) = shared.events.slots.clone().try_acquire_owned() else {
        return answer(StatusCode::SERVICE_UNAVAILABLE, false, "too many pages follow the desk at once");
    };
    let follower = Follower {
        parts: shared.events.parts.subscribe(),
        sent: HashMap::new(),
        engine: shared.engine.clone(),
        session,
        first: true,
        over: false,
        _slot: slot,
    };
    shared.events.refresh();
    let events = futures_util::stream::unfold(follower, |mut f| async move {
        let event = f.next().await?;
        Some((Ok::<Event, std::convert::Infallible>(event), f))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}
