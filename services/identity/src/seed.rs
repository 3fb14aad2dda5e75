//! `identity seed <dir>`: loads `<dir>/identity/feature_flags.json` and
//! `<dir>/identity/users.json`. Idempotent: flags are upserted by name,
//! users are created once by email (an existing user is left as it is).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use jazz_platform::audit::AuditEntry;
use jazz_platform::cli::read_seed_file;
use jazz_platform::{DbPool, Principal, ids};
use serde::Deserialize;

use crate::domain::password;
use crate::schema::{feature_flags, user_profiles, users};

#[derive(Deserialize)]
struct FlagsFile {
    feature_flags: Vec<SeedFlag>,
}

#[derive(Deserialize)]
struct SeedFlag {
    name: String,
    description: Option<String>,
    is_enabled: bool,
    rollout_percentage: f64,
    conditions: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct UsersFile {
    users: Vec<SeedUser>,
}

#[derive(Deserialize)]
struct SeedUser {
    email: String,
    password: String,
    first_name: String,
    last_name: String,
    username: Option<String>,
    timezone: String,
    locale: String,
    skill_level: String,
    email_verified: bool,
}

/// Loads identity's seed files from `dir`.
pub async fn load(pool: DbPool, dir: PathBuf) -> anyhow::Result<()> {
    let flags: FlagsFile = read_seed_file(&dir.join("identity/feature_flags.json"))?;
    let users: UsersFile = read_seed_file(&dir.join("identity/users.json"))?;
    let mut conn = pool.get().await?;
    let seeder = Principal::service("seed");
    for flag in flags.feature_flags {
        conn.transaction(async |conn| {
            diesel::insert_into(feature_flags::table)
                .values((
                    feature_flags::id.eq(ids::new_id()),
                    feature_flags::name.eq(&flag.name),
                    feature_flags::description.eq(&flag.description),
                    feature_flags::is_enabled.eq(flag.is_enabled),
                    feature_flags::rollout_percentage.eq(flag.rollout_percentage),
                    feature_flags::conditions.eq(&flag.conditions),
                ))
                .on_conflict(feature_flags::name)
                .do_update()
                .set((
                    feature_flags::description.eq(&flag.description),
                    feature_flags::is_enabled.eq(flag.is_enabled),
                    feature_flags::rollout_percentage.eq(flag.rollout_percentage),
                    feature_flags::conditions.eq(&flag.conditions),
                ))
                .execute(conn)
                .await?;
            AuditEntry::new(&seeder, "SEED", "feature_flags", Some(flag.name.clone())).write(conn).await
        })
        .await
        .with_context(|| format!("feature flag {}", flag.name))?;
    }
    for user in users.users {
        seed_user(&mut conn, &seeder, user, &dir).await?;
    }
    Ok(())
}

async fn seed_user(
    conn: &mut diesel_async::AsyncPgConnection,
    seeder: &Principal,
    user: SeedUser,
    dir: &Path,
) -> anyhow::Result<()> {
    let email = user.email.trim().to_lowercase();
    let exists: i64 = users::table.filter(users::email.eq(&email)).count().get_result(conn).await?;
    if exists > 0 {
        return Ok(());
    }
    let secret = user.password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret)).await??;
    let user_id = ids::new_id();
    let verified = user.email_verified.then(chrono::Utc::now);
    conn.transaction(async |conn| {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(user_id),
                users::email.eq(&email),
                users::email_verified.eq(verified),
                users::first_name.eq(&user.first_name),
                users::last_name.eq(&user.last_name),
                users::username.eq(&user.username),
                users::timezone.eq(&user.timezone),
                users::locale.eq(&user.locale),
                users::password_hash.eq(&hash),
            ))
            .execute(conn)
            .await?;
        diesel::insert_into(user_profiles::table)
            .values((
                user_profiles::id.eq(ids::new_id()),
                user_profiles::user_id.eq(user_id),
                user_profiles::skill_level.eq(&user.skill_level),
            ))
            .execute(conn)
            .await?;
        AuditEntry::new(seeder, "SEED", "users", Some(ids::to_api(user_id))).by_user(user_id).write(conn).await
    })
    .await
    .with_context(|| format!("demo user {email} from {}", dir.display()))
}
