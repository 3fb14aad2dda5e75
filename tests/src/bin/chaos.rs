//! `chaos`: the fault suite `make chaos` runs (through
//! `deploy/local/chaos.sh`) against the real debug binaries and a private
//! PostgreSQL cluster. Each scenario prints what it counted and fails the
//! run when its promise (docs/reliability.md) is broken:
//!
//! 1. kill -9 of a producer between commit and delivery;
//! 2. kill -9 of a consumer mid-handler;
//! 3. `pg_ctl restart -m immediate` under a stream of acknowledged writes;
//! 4. a locked table under a 2 s deadline;
//! 5. SIGTERM under load;
//! 6. a burst of 2000 concurrent sign-ins.
//!
//! `chaos [scenario number …]` runs only those.

#[path = "../chaos/events.rs"]
mod events;
#[path = "../chaos/harness.rs"]
mod harness;
#[path = "../chaos/load.rs"]
mod load;

use std::time::Instant;

use harness::{Harness, Tally};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let only: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let mut h = Harness::from_env()?;
    for process in harness::PROCESSES {
        h.wait_serving(process, std::time::Duration::from_secs(30)).await?;
    }
    // Names of this run's rows, so a rerun on the same databases counts its own.
    let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let names = [
        "kill -9 of a producer between commit and delivery",
        "kill -9 of a consumer mid-handler",
        "pg_ctl restart -m immediate under acknowledged writes",
        "a locked table under a 2 s deadline",
        "SIGTERM under load",
        "a burst of 2000 concurrent sign-ins",
    ];
    let mut failed = Vec::new();
    let mut ran = 0;
    for (i, name) in names.iter().enumerate() {
        let number = i + 1;
        if !only.is_empty() && !only.contains(&number) {
            continue;
        }
        println!("chaos {number}: {name}");
        let begun = Instant::now();
        let outcome: anyhow::Result<Tally> = match number {
            1 => events::producer_killed(&mut h, &run).await,
            2 => events::consumer_killed(&mut h, &run).await,
            3 => load::postgres_restarted(&mut h, &run).await,
            4 => load::table_locked(&mut h, &run).await,
            5 => load::terminated(&mut h, &run).await,
            _ => load::sign_in_burst(&mut h).await,
        };
        ran += 1;
        match outcome {
            Ok(tally) if tally.broken.is_empty() => {
                println!("  kept ({:.1} s)", begun.elapsed().as_secs_f64());
            }
            Ok(tally) => {
                println!("  BROKEN ({:.1} s): {}", begun.elapsed().as_secs_f64(), tally.broken.join("; "));
                failed.push(number);
            }
            Err(error) => {
                println!("  BROKEN ({:.1} s): the scenario could not run: {error:#}", begun.elapsed().as_secs_f64());
                failed.push(number);
            }
        }
    }
    println!("chaos: {} of {ran} scenarios kept their promises", ran - failed.len());
    if !failed.is_empty() {
        eprintln!("chaos scenarios broken: {failed:?}");
        std::process::exit(1);
    }
    Ok(())
}
