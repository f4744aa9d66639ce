//! `bench engine CONFIG`: loudhailer's engine as `loudhailer run --exit-when-done` runs it (the
//! same config, store, clients, wall clock and log), but with no published rate budgets.
//!
//! Mastodon allows an account 300 requests per 5 minutes and 300 posts per 3 hours, and the
//! daemon keeps to that: it would spread the lateness run's 1,000 posts and 1,000 boosts (each
//! amplifier boosts every post) over more than three hours. The lateness run measures the
//! scheduler, so it runs the engine here with limiters that hold nothing back. The server's
//! own word (its headers, a 429) still applies.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use loudhailer::clock::Clock;
use loudhailer::config::Config;
use loudhailer::engine::{self, Setup};
use loudhailer::limit::Limiter;
use loudhailer::platform::Client;
use loudhailer::store::Store;

pub fn main(config: &Path) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("loudhailer=info,warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let config = Arc::new(Config::load(config).map_err(|e| e.to_string())?);
        let clock = Clock::Wall;
        let store = Store::open(&config.state_dir).map_err(|e| e.to_string())?;
        let mut limiters = HashMap::new();
        let mut clients = HashMap::new();
        for account in &config.accounts {
            let limiter = Arc::new(Limiter::new(clock, Vec::new()));
            let secret = loudhailer::secret::load(account).map_err(|e| e.to_string())?;
            let client = Client::connect(account, secret, limiter.clone(), clock, Arc::new(store.clone()))
                .map_err(|e| format!("account {}: {e}", account.id))?;
            limiters.insert(account.id.clone(), limiter);
            clients.insert(account.id.clone(), Arc::new(client));
        }
        let setup = Setup {
            config,
            store,
            clock,
            clients,
            limiters,
            exit_when_done: true,
            only: None,
            control: None,
            sent: None,
            watches_over: None,
            prepared: None,
        };
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::spawn(async move {
                term.recv().await;
                stop.cancel();
            });
        }
        let summary = engine::run(setup, shutdown).await.map_err(|e| e.to_string())?;
        eprintln!("engine: {} sent", summary.sent);
        Ok(())
    })
}
