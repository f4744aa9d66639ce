//! Where a network client keeps what must outlive the process (a logged-in session, OAuth
//! tokens): one opaque JSON value per account, written durably. The store implements it; a
//! client sees only this, never the store.

/// A client's durable session slot, per account.
pub trait Sessions: Send + Sync {
    /// What was kept for `account`, if anything.
    fn load(&self, account: &str) -> Result<Option<serde_json::Value>, String>;
    /// Keeps `value` (or forgets, with `None`) for `account`, on disk before returning.
    fn save(&self, account: &str, value: Option<serde_json::Value>) -> Result<(), String>;
}

/// Sessions kept in memory only (dry runs, tests).
#[derive(Debug, Default)]
pub struct InMemory(std::sync::Mutex<std::collections::HashMap<String, serde_json::Value>>);

impl Sessions for InMemory {
    fn load(&self, account: &str) -> Result<Option<serde_json::Value>, String> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).get(account).cloned())
    }

    fn save(&self, account: &str, value: Option<serde_json::Value>) -> Result<(), String> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match value {
            Some(v) => map.insert(account.to_string(), v),
            None => map.remove(account),
        };
        Ok(())
    }
}
