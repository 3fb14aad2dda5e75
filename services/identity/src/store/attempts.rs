//! `sign_in_attempts`: failures counted per account and per client address
//! over a sliding window, for throttling.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::sign_in_attempts as a;

/// Records one attempt (at least one of `email` / `ip` is needed).
pub async fn record(
    conn: &mut AsyncPgConnection,
    email: Option<&str>,
    ip: Option<&str>,
    succeeded: bool,
) -> QueryResult<()> {
    if email.is_none() && ip.is_none() {
        return Ok(());
    }
    let ip = ip.map(|ip| ip.chars().take(100).collect::<String>());
    diesel::insert_into(a::table)
        .values((
            a::id.eq(jazz_platform::ids::new_id()),
            a::email.eq(email),
            a::ip_address.eq(ip),
            a::succeeded.eq(succeeded),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Failed attempts since `since` for `email` and for `ip` (0 when absent).
pub async fn failures_since(
    conn: &mut AsyncPgConnection,
    email: Option<&str>,
    ip: Option<&str>,
    since: DateTime<Utc>,
) -> QueryResult<(i64, i64)> {
    let by_email = match email {
        Some(email) => {
            a::table
                .filter(a::email.eq(email).and(a::attempted_at.ge(since)).and(a::succeeded.eq(false)))
                .count()
                .get_result(conn)
                .await?
        }
        None => 0,
    };
    let by_ip = match ip {
        Some(ip) => {
            a::table
                .filter(a::ip_address.eq(ip).and(a::attempted_at.ge(since)).and(a::succeeded.eq(false)))
                .count()
                .get_result(conn)
                .await?
        }
        None => 0,
    };
    Ok((by_email, by_ip))
}
