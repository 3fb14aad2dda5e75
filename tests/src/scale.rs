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

/// The id of the i-th catalogue item [`content_catalogue`] makes:
/// deterministic, so a load generator can name items without reading them.
pub fn catalogue_uuid(i: u64) -> Uuid {
    Uuid::from_u128(CATALOGUE_ID_BASE | u128::from(i))
}

/// `00000000-0000-4000-8000-00000000000` + i: a version-4 shape, apart from
/// every id the services make (ULIDs).
const CATALOGUE_ID_BASE: u128 = 0x0000_0000_0000_4000_8000_0000_0000_0000;

/// Grows the content catalogue to `total` items (once: a later run finds
/// them) of 10 000 owners over the last year: each a copy of one of the
/// items `from` already has (parameters, music, MusicXML), with varied
/// titles, tags, styles and likes; a third public (i % 3 == 0), one in fifty of the others deleted.
/// Item i has the id [`catalogue_uuid`]`(i)`. Returns the items added.
pub async fn content_catalogue(conn: &mut AsyncPgConnection, from: Uuid, total: i64) -> anyhow::Result<usize> {
    let sql = "WITH seeds AS ( \
           SELECT type, parameters, music_data, music_xml, difficulty, key, tempo, time_signature, \
                  row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n \
             FROM generated_content WHERE user_id = $1 AND deleted_at IS NULL) \
       INSERT INTO generated_content (id, user_id, type, title, description, parameters, music_data, music_xml, \
                                      difficulty, key, tempo, time_signature, style, tags, is_public, likes, \
                                      views, created_at, deleted_at) \
       SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, \
              ('00000000-0000-4000-9000-' || lpad(to_hex(g % 10000), 12, '0'))::uuid, \
              seeds.type, \
              CASE WHEN g % 500 = 0 THEN 'Bebop lick ' || g \
                   ELSE (ARRAY['Modal', 'Blues', 'Swing', 'Latin', 'Ballad'])[g % 5 + 1] || ' exercise ' || g END, \
              CASE WHEN g % 2 = 0 THEN 'Practice material number ' || g END, \
              seeds.parameters, seeds.music_data, seeds.music_xml, seeds.difficulty, seeds.key, seeds.tempo, \
              seeds.time_signature, (ARRAY['bebop', 'hard bop', 'modal', 'latin', 'ballad'])[g % 5 + 1], \
              ARRAY[(ARRAY['swing', 'blues', 'modal', 'latin'])[g % 4 + 1], 'tag' || (g % 300)], \
              g % 3 = 0, (g * 7919) % 997, (g * 104729) % 9973, \
              now() - make_interval(secs => (g * 31536000.0 / $2)::float8), \
              CASE WHEN g % 50 = 1 AND g % 3 <> 0 THEN now() END \
         FROM generate_series((SELECT count(*) FROM generated_content \
                                WHERE id >= '00000000-0000-4000-8000-000000000000' \
                                  AND id < '00000000-0000-4000-8001-000000000000'), $2 - 1) AS g \
         JOIN seeds ON seeds.k = g % seeds.n";
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(from)
        .bind::<BigInt, _>(total)
        .execute(conn)
        .await
        .context("growing the content catalogue")
}
