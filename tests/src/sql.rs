//! Raw SQL for tests that inspect a database directly (schema rules,
//! migrations, erasure scans): a failing statement names itself.

use anyhow::Context as _;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `sql` (which names its one text column `line`) and returns the rows.
pub async fn lines(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<Line> = diesel::sql_query(sql).load(conn).await.with_context(|| format!("query failed: {sql}"))?;
    Ok(rows.into_iter().map(|row| row.line).collect())
}

/// Runs `sql` (one row, one bigint column named `n`).
pub async fn number(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<i64> {
    let row: Number = diesel::sql_query(sql).get_result(conn).await.with_context(|| format!("query failed: {sql}"))?;
    Ok(row.n)
}

/// Runs a statement and returns the rows it touched.
pub async fn execute(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<usize> {
    diesel::sql_query(sql).execute(conn).await.with_context(|| format!("statement failed: {sql}"))
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// `EXPLAIN …` of `sql`'s query (`EXPLAIN (ANALYZE, BUFFERS) SELECT …`): the plan's lines.
pub async fn plan(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<PlanLine> =
        diesel::sql_query(sql).load(conn).await.with_context(|| format!("query failed: {sql}"))?;
    Ok(rows.into_iter().map(|row| row.line).collect())
}
