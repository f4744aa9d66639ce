//! Approving a suggestion: a sentence taken from a session's abstract, which is posted into the
//! session's thread only once a person approves it. The approval is kept with the hand-made
//! adjustments, so the planner makes its posts like a point's; the engine plans again.

use super::{refused, Book, Outcome};
use crate::control::{ControlError, Response};
use crate::plan;

impl Book<'_> {
    /// Approves suggestion `n` (from 1) of `session`; without `n`, lists them. Approving one
    /// twice changes nothing (it is posted once).
    pub(super) fn approve(&mut self, session: &str, n: Option<usize>) -> Result<Outcome, ControlError> {
        let id = self.session_id(session)?;
        let Some(s) = self.config.session(&id) else {
            return Err(refused(format!("{id} is not in the schedule any more")));
        };
        let mut adj = self.store.adjustments()?;
        let listed: Vec<plan::Suggestion> =
            plan::suggestions(self.config, &adj.approved).into_iter().filter(|x| x.session == id).collect();
        if listed.is_empty() {
            return Err(refused(format!("{id} has no suggested points (only sentences from an abstract are)")));
        }
        let Some(n) = n else {
            let lines: Vec<String> = listed
                .iter()
                .map(|x| {
                    let state = if x.approved.is_some() { "approved" } else { "suggested" };
                    format!("  {}. [{state}] {}", x.n, x.text)
                })
                .collect();
            return Ok(Outcome {
                response: Response::message(format!(
                    "{id}'s suggestions (`loudhailer approve {id} N` posts one):\n{}",
                    lines.join("\n")
                )),
                ..Default::default()
            });
        };
        let Some(chosen) = listed.iter().find(|x| x.n == n) else {
            return Err(refused(format!("{id} has {} suggestions: give N from 1 to {}", listed.len(), listed.len())));
        };
        if chosen.approved.is_some() {
            return Ok(Outcome {
                response: Response::message(format!("{id} suggestion {n} was already approved: nothing more posted")),
                ..Default::default()
            });
        }
        let text = s.suggested[n - 1].clone();
        adj.approved.entry(id.clone()).or_default().insert(text.clone(), self.now);
        self.store.put_adjustments(&adj)?;
        Ok(Outcome {
            response: Response::message(format!("approved {id} suggestion {n}: “{text}” goes into its thread")),
            replan: true,
            ..Default::default()
        })
    }
}
