//! The erasure check (`jazz_platform::residue`): every text, uuid, json and
//! bytea column of every table is scanned for a user's id (uuid and ULID
//! forms) and email; rows the design keeps are skipped.

use diesel_async::RunQueryDsl;
use jazz_platform::ServiceName;
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::residue::{Kept, Residue, find};
use jazz_platform::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_finds_a_user_in_any_column_and_skips_only_what_is_kept() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    let (user, email) = (new_id(), "Bud.Powell@example.com");
    let values = [user.to_string(), to_api(user), email.to_lowercase()];
    assert!(find(&mut conn, &values, &[]).await?.is_empty(), "a fresh database holds nobody");

    // The uuid in a uuid column, the ULID in text and jsonb, the email in
    // another case inside jsonb, the ULID inside a stored reply's bytes.
    jazz_platform::outbox::enqueue(&mut conn, "identity.user_purged", &to_api(user), serde_json::json!({})).await?;
    diesel::sql_query(format!(
        "INSERT INTO audit_logs (id, user_id, action, entity, new_data) \
         VALUES ('{}', '{user}', 'UPDATE', 'users', '{{\"email\": \"{email}\"}}')",
        new_id()
    ))
    .execute(&mut conn)
    .await?;
    diesel::sql_query(format!(
        "INSERT INTO idempotency_keys (scope, key, status, response) \
         VALUES ('x', 'k', 'completed', convert_to('reply for {}', 'UTF8'))",
        to_api(user)
    ))
    .execute(&mut conn)
    .await?;
    let found = find(&mut conn, &values, &[]).await?;
    let place = |r: &Residue| format!("{}.{}", r.table, r.column);
    assert_eq!(
        found.iter().map(place).collect::<Vec<_>>(),
        ["audit_logs.user_id", "audit_logs.new_data", "idempotency_keys.response", "outbox_events.aggregate_id"],
    );

    // What the design keeps is skipped, and only that.
    let kept =
        [Kept { table: "outbox_events", rows: "event_type = 'identity.user_purged'", why: "the purge's own event" }];
    let found = find(&mut conn, &values, &kept).await?;
    assert!(found.iter().all(|r| r.table != "outbox_events"));
    assert_eq!(found.len(), 3);
    diesel::sql_query("DELETE FROM audit_logs").execute(&mut conn).await?;
    diesel::sql_query("DELETE FROM idempotency_keys").execute(&mut conn).await?;
    assert!(find(&mut conn, &values, &kept).await?.is_empty());
    Ok(())
}
