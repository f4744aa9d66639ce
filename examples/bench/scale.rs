//! Figure 2: planning an event and persisting its jobs, through the library, as the daemon's
//! first start does it (plan, merge into the empty store, write in batches and flush); and
//! issue 7's `import` then `plan` through the binary; on FOSDEM 2024's file where ../shared has
//! it, and on a generated programme of its size in any clone.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use loudhailer::config::Config;
use loudhailer::store::Store;

use crate::stats::median;
use crate::{procfs, Ctx};

/// One planning and persisting, ms per phase.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Persisted {
    pub sessions: usize,
    pub jobs: usize,
    /// Reading and checking the config (and its schedule file).
    pub load_ms: f64,
    pub plan_ms: f64,
    /// Merging into the store and writing it to disk.
    pub persist_ms: f64,
    pub total_ms: f64,
}

/// Loads `config`, plans it and stores the jobs in `state`, as the daemon's start does.
pub fn persist(config: &Path, state: &Path) -> Result<Persisted, String> {
    let t0 = Instant::now();
    let mut cfg = Config::load(config).map_err(|e| e.to_string())?;
    cfg.state_dir = state.to_path_buf();
    let t1 = Instant::now();
    // As the daemon's first start does it (the store opened, the plan made and merged in).
    let store = Store::open(state).map_err(|e| e.to_string())?;
    store.bind_event(&cfg.event.name).map_err(|e| e.to_string())?;
    let planned =
        loudhailer::engine::plan_and_store(&cfg, &store).map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    let t3 = Instant::now();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    Ok(Persisted {
        sessions: cfg.sessions.len(),
        jobs: planned.jobs,
        load_ms: ms(t0, t1),
        plan_ms: planned.plan_ms,
        persist_ms: ms(t1, t3) - planned.plan_ms,
        total_ms: ms(t0, t3),
    })
}

/// The medians of `repeats` runs, each into a new state dir, and the state's size on disk.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scale {
    pub median: Persisted,
    pub runs_ms: Vec<f64>,
    pub state_bytes: u64,
}

pub fn scale(config_text: impl Fn(&Path) -> String, repeats: usize) -> Result<Scale, String> {
    let mut runs = Vec::new();
    let mut state_bytes = 0;
    for _ in 0..repeats.max(1) {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let state = dir.path().join("state");
        let config = dir.path().join("event.toml");
        std::fs::write(&config, config_text(&state)).map_err(|e| e.to_string())?;
        runs.push(persist(&config, &state)?);
        state_bytes = procfs::dir_size(&state);
    }
    let m = |f: fn(&Persisted) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let median = Persisted {
        sessions: runs[0].sessions,
        jobs: runs[0].jobs,
        load_ms: m(|p| p.load_ms),
        plan_ms: m(|p| p.plan_ms),
        persist_ms: m(|p| p.persist_ms),
        total_ms: m(|p| p.total_ms),
    };
    Ok(Scale { median, runs_ms: runs.iter().map(|p| p.total_ms).collect(), state_bytes })
}

/// `loudhailer import FILE` then `loudhailer plan` of a config naming the imported sessions,
/// each a process of its own, as a user runs them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportPlan {
    pub import_ms: f64,
    pub plan_ms: f64,
    pub total_ms: f64,
    pub jobs: usize,
}

pub fn import_then_plan(ctx: &Ctx, schedule: &Path, repeats: usize) -> Result<ImportPlan, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let imported = dir.path().join("imported.toml");
    let config = dir.path().join("event.toml");
    let sessions = format!("[schedule]\nfile = {:?}\n", imported.display().to_string());
    std::fs::write(&config, crate::events::three_accounts(&dir.path().join("state"), "Europe/Brussels", &sessions))
        .map_err(|e| e.to_string())?;
    let (mut imports, mut plans, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut jobs = 0;
    for _ in 0..repeats.max(1) {
        let out = std::fs::File::create(&imported).map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        let status = Command::new(&ctx.binary)
            .args(["import", "--tz", "Europe/Brussels"])
            .arg(schedule)
            .stdout(out)
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        let t1 = Instant::now();
        if !status.success() {
            return Err(format!("loudhailer import {} failed ({status})", schedule.display()));
        }
        let plan = Command::new(&ctx.binary)
            .args(["plan", "--format", "json", "--config"])
            .arg(&config)
            .stderr(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        let t2 = Instant::now();
        if !plan.status.success() {
            return Err(format!("loudhailer plan of the imported {} failed ({})", schedule.display(), plan.status));
        }
        jobs = serde_json::from_slice::<Vec<serde_json::Value>>(&plan.stdout).map(|v| v.len()).unwrap_or(0);
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        imports.push(ms(t0, t1));
        plans.push(ms(t1, t2));
        totals.push(ms(t0, t2));
    }
    Ok(ImportPlan { import_ms: median(&imports), plan_ms: median(&plans), total_ms: median(&totals), jobs })
}

/// Both figures on the project's own input: a generated frab XML programme of `sessions` talks
/// (`events::frab_programme`), a month ahead, so they can be measured in any clone.
pub fn generated(ctx: &Ctx, sessions: usize, repeats: usize) -> (Result<Scale, String>, Result<ImportPlan, String>) {
    let first_day = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let made = tempfile::tempdir().map_err(|e| e.to_string()).and_then(|dir| {
        let file = dir.path().join("generated.xml");
        std::fs::write(&file, crate::events::frab_programme(first_day, sessions)).map_err(|e| e.to_string())?;
        Ok((dir, file))
    });
    let (_dir, file) = match made {
        Ok(made) => made,
        Err(e) => return (Err(e.clone()), Err(e)),
    };
    let table = format!("[schedule]\nfile = {:?}\n", file.display().to_string());
    let persisted = scale(|state| crate::events::three_accounts(state, "Europe/Brussels", &table), repeats);
    (persisted, import_then_plan(ctx, &file, repeats))
}

/// `bench sled-floor [KEYS]`: what sled alone costs to store `KEYS` keys shaped like job ids, in
/// order, in batches as the plan writes them, then flushed: the floor under figure 2, whatever
/// loudhailer does around it (one key per job). Printed as a table, ms (median of three runs,
/// each into a new database with the store's cache size).
pub fn sled_floor(keys: usize) -> Result<(), String> {
    let ids: Vec<String> = (0..keys).map(|i| format!("s{:05}.p{}.delegate", i / 12, i % 12)).collect();
    println!("| keys | value bytes | batch | store and flush |");
    println!("|---|---|---|---|");
    let cases = [(0, 1_000), (100, 1_000), (300, 1_000), (700, 1_000), (0, 100), (0, 10_000), (0, keys)];
    for (bytes, batch) in cases {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let db = sled::Config::new()
                .path(dir.path().join("db"))
                .cache_capacity(1 << 20)
                .flush_every_ms(None)
                .open()
                .map_err(|e| e.to_string())?;
            let tree = db.open_tree("jobs").map_err(|e| e.to_string())?;
            let value = vec![b'x'; bytes];
            let t0 = Instant::now();
            for part in ids.chunks(batch.max(1)) {
                let mut b = sled::Batch::default();
                for id in part {
                    b.insert(id.as_bytes(), &value[..]);
                }
                tree.apply_batch(b).map_err(|e| e.to_string())?;
            }
            db.flush().map_err(|e| e.to_string())?;
            runs.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        println!("| {keys} | {bytes} | {batch} | {:.0} ms |", median(&runs));
    }
    Ok(())
}
