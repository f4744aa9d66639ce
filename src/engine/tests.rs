use std::path::Path;
use std::sync::atomic::AtomicU64;

use super::*;
use crate::platform::dryrun::DryRun;

fn example() -> Arc<Config> {
    Arc::new(Config::parse(Path::new("example.toml"), include_str!("../../config/example.toml")).unwrap())
}

#[tokio::test(start_paused = true)]
async fn a_day_plays_on_a_paused_clock() {
    let config = example();
    let origin = config.sessions[0].start;
    let clock = Clock::scaled(origin, 1.0);
    let counter = Arc::new(AtomicU64::new(0));
    let mut clients = HashMap::new();
    let mut limiters = HashMap::new();
    for a in &config.accounts {
        clients.insert(
            a.id.clone(),
            Arc::new(Client::DryRun(DryRun::new(
                &a.id,
                a.network,
                a.server.clone(),
                clock,
                config.event.timezone,
                counter.clone(),
            ))),
        );
        limiters.insert(a.id.clone(), Arc::new(Limiter::new(clock, crate::limit::published(a.network))));
    }
    let store = Store::temporary().unwrap();
    let setup = Setup {
        config: config.clone(),
        store: store.clone(),
        clock,
        clients,
        limiters,
        exit_when_done: true,
        only: None,
        control: None,
        sent: None,
    };
    let summary = run(setup, std::future::pending()).await.unwrap();
    assert_eq!(summary.sent, 40);
}
