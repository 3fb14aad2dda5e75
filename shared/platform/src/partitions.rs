//! Keeps next months' partitions of the range-partitioned tables
//! (`audit_logs` everywhere, `system_metrics` in progress) created ahead,
//! so no operator ever has to add one by hand.

use std::time::Duration;

use diesel_async::RunQueryDsl;

use crate::db::DbPool;

/// How many months ahead partitions exist.
pub const MONTHS_AHEAD: i32 = 3;

/// How often the job runs; daily is ample for monthly partitions.
const INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Creates any missing partitions of `table` for this month and the next
/// [`MONTHS_AHEAD`]; returns how many were made.
pub async fn ensure(pool: &DbPool, table: &str) -> anyhow::Result<i32> {
    #[derive(diesel::QueryableByName)]
    struct Created {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        created: i32,
    }
    let mut conn = pool.get().await?;
    let row: Created = diesel::sql_query("SELECT jazz_ensure_monthly_partitions($1::regclass, $2) AS created")
        .bind::<diesel::sql_types::Text, _>(table)
        .bind::<diesel::sql_types::Integer, _>(MONTHS_AHEAD)
        .get_result(&mut conn)
        .await?;
    Ok(row.created)
}

/// Runs [`ensure`] for `tables` now and then daily, for the life of the
/// process. Several replicas may run it at once: the SQL function takes an
/// advisory lock.
pub fn spawn_maintenance(pool: DbPool, tables: &'static [&'static str]) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            for table in tables {
                match ensure(&pool, table).await {
                    Ok(0) => {}
                    Ok(created) => tracing::info!(table, created, "created partitions ahead"),
                    Err(error) => tracing::warn!(table, %error, "could not create partitions ahead"),
                }
            }
            tokio::time::sleep(INTERVAL).await;
        }
    })
}
