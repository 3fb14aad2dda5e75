//! The check behind RELIABILITY.md's "after the purge no database holds the
//! user's id or email": [`find`] scans every text, uuid, json, jsonb and
//! bytea column of every table of a service's database (from
//! `information_schema`, so a table added later is scanned without a code
//! change) for any of the given values, and reports each column that still
//! holds one, with its row count.
//!
//! What the design keeps on purpose is passed as [`Kept`] rows, each with
//! its reason; the scan skips the rows they describe. A full scan reads
//! every row once per column: an operator's check and a test, not a hot
//! path.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Rows the design keeps although they mention the user, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// The table.
    pub table: &'static str,
    /// An SQL condition on the table's rows selecting the kept ones.
    pub rows: &'static str,
    /// Why they are kept (for the documentation and the log).
    pub why: &'static str,
}

/// A column that still holds one of the searched values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Residue {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// Rows whose column holds a searched value.
    pub rows: i64,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `name` as a quoted SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The condition "`column` of `data_type` holds `$1`" (text compared case
/// blind: emails and ULIDs are matched in any case).
fn holds(column: &str, data_type: &str) -> String {
    let column = quoted(column);
    if data_type == "bytea" {
        format!("position(convert_to($1, 'UTF8') IN {column}) > 0")
    } else {
        format!("strpos(lower({column}::text), lower($1)) > 0")
    }
}

/// Every column of `conn`'s database that holds one of `values` (ids in
/// any text form the caller passes: the uuid, the API's ULID; an email),
/// outside the rows `kept` describes. Empty values are ignored.
pub async fn find(conn: &mut AsyncPgConnection, values: &[String], kept: &[Kept]) -> QueryResult<Vec<Residue>> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, c.data_type::text AS data_type \
           FROM information_schema.columns c \
           JOIN pg_class t ON t.relname = c.table_name AND t.relnamespace = 'public'::regnamespace \
          WHERE c.table_schema = 'public' AND t.relkind IN ('r', 'p') AND NOT t.relispartition \
            AND c.table_name <> '__diesel_schema_migrations' \
            AND c.data_type IN ('text', 'character varying', 'character', 'uuid', 'json', 'jsonb', 'bytea', 'ARRAY') \
          ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)
    .await?;
    let mut found = Vec::new();
    for column in columns {
        let kept_rows: Vec<&str> = kept.iter().filter(|k| k.table == column.table_name).map(|k| k.rows).collect();
        let outside_kept =
            if kept_rows.is_empty() { String::new() } else { format!(" AND NOT (({}))", kept_rows.join(") OR (")) };
        let sql = format!(
            "SELECT count(*) AS n FROM {} WHERE {}{outside_kept}",
            quoted(&column.table_name),
            holds(&column.column_name, &column.data_type)
        );
        let mut rows = 0;
        for value in values.iter().filter(|v| !v.is_empty()) {
            let count: Count = diesel::sql_query(&sql).bind::<Text, _>(value).get_result(conn).await?;
            rows += count.n;
        }
        if rows > 0 {
            found.push(Residue { table: column.table_name, column: column.column_name, rows });
        }
    }
    Ok(found)
}

/// The values the check searches for `user`: the uuid text, the API's
/// ULID and, when known, the email.
pub fn values_of(user: uuid::Uuid, email: &str) -> Vec<String> {
    let mut values = vec![user.to_string(), crate::ids::to_api(user)];
    if !email.trim().is_empty() {
        values.push(email.trim().to_owned());
    }
    values
}

/// A service's `FindResidue`: `user_id` (a ULID) checked, then [`find`]
/// over the service's database with its `kept` rows, as the contract's
/// columns of `service`.
pub async fn serve(
    pool: &crate::db::DbPool,
    service: &str,
    user_id: &str,
    email: &str,
    kept: &[Kept],
) -> Result<Vec<jazz_contract::jazz::common::v1::ResidueColumn>, tonic::Status> {
    let user = crate::ids::parse_id("user_id", user_id).map_err(|v| crate::error::invalid_argument(&[v]))?;
    let mut conn = pool.get().await.map_err(crate::error::StoreError::from)?;
    let found = find(&mut conn, &values_of(user, email), kept).await.map_err(crate::error::StoreError::from)?;
    Ok(found
        .into_iter()
        .map(|r| jazz_contract::jazz::common::v1::ResidueColumn {
            service: service.to_owned(),
            table: r.table,
            column: r.column,
            rows: r.rows,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_types_matched() {
        assert_eq!(quoted(r#"a"b"#), r#""a""b""#);
        assert_eq!(holds("user_id", "uuid"), r#"strpos(lower("user_id"::text), lower($1)) > 0"#);
        assert_eq!(holds("response", "bytea"), r#"position(convert_to($1, 'UTF8') IN "response") > 0"#);
    }
}
