//! Data at scale, made fast: one `INSERT … SELECT` in PostgreSQL instead of
//! one RPC per row, for `make bench` and for tests that need a long
//! history. The rows copy what the service itself wrote, so they are as
//! valid as real ones.

use anyhow::Context as _;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Grows `user`'s practice history to `total` records spread over the last
/// `days` days (one session a day), each a copy of one of the records the
/// user already has (item, difficulty, key, mode, skill area), with varied
/// minutes, scores and times. Returns the records added.
pub async fn practice_history(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    total: i64,
    days: i64,
) -> anyhow::Result<usize> {
    let sql = "WITH seeds AS ( \
           SELECT generated_content_id, difficulty, key, mode, skill_area, \
                  row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n \
             FROM practice_records WHERE user_id = $1), \
         have AS (SELECT count(*) AS n FROM practice_records WHERE user_id = $1), \
         sessions AS ( \
           INSERT INTO practice_sessions (id, user_id, title, started_at, ended_at, duration) \
           SELECT gen_random_uuid(), $1, 'bench day ' || d, now() - make_interval(days => d::int), \
                  now() - make_interval(days => d::int) + interval '1 hour', 60 \
             FROM generate_series(1, $3) AS d \
           RETURNING id, started_at), \
         numbered AS (SELECT id, started_at, row_number() OVER (ORDER BY started_at) - 1 AS i FROM sessions) \
       INSERT INTO practice_records (id, practice_session_id, generated_content_id, time_spent, difficulty, \
                                     performance, practiced_at, user_id, key, mode, skill_area) \
       SELECT gen_random_uuid(), s.id, seeds.generated_content_id, 1 + g % 30, seeds.difficulty, \
              (g * 37 % 101)::float8, s.started_at + make_interval(secs => g % 3600), $1, \
              seeds.key, seeds.mode, seeds.skill_area \
         FROM generate_series(1, greatest($2 - (SELECT n FROM have), 0)) AS g \
         JOIN seeds ON seeds.k = g % seeds.n \
         JOIN numbered s ON s.i = g % $3";
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(user)
        .bind::<BigInt, _>(total)
        .bind::<BigInt, _>(days)
        .execute(conn)
        .await
        .context("growing the practice history")
}
