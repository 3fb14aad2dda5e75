//! One user's audit trail merged from several services' `ListAuditLogs`,
//! newest first — the algorithm, without knowing which services there are
//! or how they are reached (identity's `GetUserAuditTrail` supplies the
//! [`AuditSource`]s).
//!
//! Order: `(created_at, id, service)` descending. A merged page ends at a
//! [`TrailPosition`] (the last entry shown), which is a position in every
//! service's log at once: the next page asks each service for entries
//! created at or before the position's microsecond (`end_time` one
//! microsecond after it) and drops those not strictly after it, so entries
//! sharing a microsecond are neither skipped nor repeated. Each service is
//! asked for one page size of entries; a service whose buffer runs dry
//! while it has more is asked again before anything else is chosen.

use std::cmp::Ordering;
use std::collections::VecDeque;

use jazz_contract::jazz::common::v1::AuditLogEntry;
use prost_types::Timestamp;

use crate::audit_list::{AuditListPage, AuditListRequest};

/// One service's audit log, as the trail reads it.
#[tonic::async_trait]
pub trait AuditSource<E>: Send + Sync {
    /// The service's name, as in `AuditLogEntry.service`.
    fn service(&self) -> &'static str;
    /// One page of the service's `ListAuditLogs`.
    async fn page(&self, request: AuditListRequest) -> Result<AuditListPage, E>;
}

/// The last entry a trail page showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailPosition {
    /// Its `created_at`, in microseconds since the epoch (the databases'
    /// precision).
    pub micros: i64,
    /// Its id (ULID text; ULIDs sort as text in the order of their bytes).
    pub id: String,
    /// Its service.
    pub service: String,
}

impl TrailPosition {
    /// The position as text parts (for a page token).
    pub fn to_parts(&self) -> [String; 3] {
        [self.micros.to_string(), self.id.clone(), self.service.clone()]
    }

    /// The position from [`to_parts`](Self::to_parts)' output.
    pub fn from_parts(parts: &[String]) -> Option<Self> {
        let [micros, id, service] = parts else { return None };
        let valid_id = crate::ids::parse_id("page_token", id).is_ok();
        let valid_service = !service.is_empty() && service.bytes().all(|b| b.is_ascii_lowercase());
        Some(Self { micros: micros.parse().ok()?, id: id.clone(), service: service.clone() })
            .filter(|_| valid_id && valid_service)
    }

    fn key(&self) -> (i64, &str, &str) {
        (self.micros, &self.id, &self.service)
    }
}

/// The filter of a trail.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailQuery {
    /// The user (ULID).
    pub user_id: String,
    /// Entries at or after this time.
    pub start_time: Option<Timestamp>,
    /// Entries before this time (the caller resolves "unset" to now once,
    /// so every service cuts at the same instant).
    pub end_time: Timestamp,
}

fn micros_of(at: Option<&Timestamp>) -> i64 {
    at.map(|t| t.seconds.saturating_mul(1_000_000).saturating_add(i64::from(t.nanos) / 1000)).unwrap_or(i64::MIN)
}

fn timestamp_of(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    }
}

struct Cursor<'a, E> {
    source: &'a dyn AuditSource<E>,
    buffer: VecDeque<AuditLogEntry>,
    token: String,
}

impl<E> Cursor<'_, E> {
    fn head_key(&self) -> Option<(i64, &str, &str)> {
        self.buffer.front().map(|e| (micros_of(e.created_at.as_ref()), e.id.as_str(), self.source.service()))
    }

    /// Takes a fetched page, keeping only entries strictly after `after`.
    fn take(&mut self, page: AuditListPage, after: Option<&TrailPosition>) {
        let service = self.source.service();
        // A source answering its own token again would loop forever.
        self.token = if page.next_page_token == self.token { String::new() } else { page.next_page_token };
        self.buffer.extend(page.entries.into_iter().filter(|e| {
            after.is_none_or(|p| {
                (micros_of(e.created_at.as_ref()), e.id.as_str(), service).cmp(&p.key()) == Ordering::Less
            })
        }));
    }
}

/// Up to `size` entries of the trail strictly after `after`, newest first,
/// and the position to continue from (`None` when nothing is left). The
/// sources are asked concurrently; the first failure is returned.
pub async fn merged_page<E>(
    sources: &[&dyn AuditSource<E>],
    query: &TrailQuery,
    size: usize,
    after: Option<&TrailPosition>,
) -> Result<(Vec<AuditLogEntry>, Option<TrailPosition>), E> {
    let end = match after {
        Some(p) => micros_of(Some(&query.end_time)).min(p.micros.saturating_add(1)),
        None => micros_of(Some(&query.end_time)),
    };
    let request = AuditListRequest {
        user_id: query.user_id.clone(),
        start_time: query.start_time,
        end_time: Some(timestamp_of(end)),
        page_size: i32::try_from(size).unwrap_or(i32::MAX),
        page_token: String::new(),
    };
    let mut cursors: Vec<Cursor<'_, E>> = sources
        .iter()
        .map(|source| Cursor { source: *source, buffer: VecDeque::new(), token: String::new() })
        .collect();
    let first = futures_util::future::join_all(sources.iter().map(|source| source.page(request.clone()))).await;
    for (cursor, page) in cursors.iter_mut().zip(first) {
        cursor.take(page?, after);
    }
    let mut entries = Vec::with_capacity(size);
    while entries.len() < size {
        // Before choosing, every source must show its next entry if it has one.
        let dry: Vec<usize> =
            (0..cursors.len()).filter(|i| cursors[*i].buffer.is_empty() && !cursors[*i].token.is_empty()).collect();
        if !dry.is_empty() {
            let pages = futures_util::future::join_all(dry.iter().map(|i| {
                let cursor = &cursors[*i];
                cursor.source.page(AuditListRequest { page_token: cursor.token.clone(), ..request.clone() })
            }))
            .await;
            for (i, page) in dry.into_iter().zip(pages) {
                cursors[i].take(page?, after);
            }
            continue;
        }
        let newest = (0..cursors.len())
            .filter_map(|i| cursors[i].head_key().map(|key| (key, i)))
            .max_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, i)| i);
        let Some(entry) = newest.and_then(|i| cursors[i].buffer.pop_front().map(|entry| (entry, i))) else { break };
        entries.push(entry);
    }
    let more = cursors.iter().any(|c| !c.buffer.is_empty() || !c.token.is_empty());
    let next = entries.last().filter(|_| more).map(|(entry, i)| TrailPosition {
        micros: micros_of(entry.created_at.as_ref()),
        id: entry.id.clone(),
        service: cursors[*i].source.service().to_owned(),
    });
    Ok((entries.into_iter().map(|(entry, _)| entry).collect(), next))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A service's log in memory, answering pages like `ListAuditLogs`
    /// (newest first, `end_time` exclusive, tokens = offsets).
    struct Log {
        name: &'static str,
        rows: Vec<(i64, String)>,
        calls: Mutex<usize>,
    }

    impl Log {
        fn new(name: &'static str, rows: &[(i64, &str)]) -> Self {
            let mut rows: Vec<(i64, String)> = rows.iter().map(|(m, id)| (*m, (*id).to_owned())).collect();
            rows.sort_by(|a, b| b.cmp(a));
            Self { name, rows, calls: Mutex::new(0) }
        }
    }

    #[tonic::async_trait]
    impl AuditSource<String> for Log {
        fn service(&self) -> &'static str {
            self.name
        }

        async fn page(&self, request: AuditListRequest) -> Result<AuditListPage, String> {
            if let Ok(mut calls) = self.calls.lock() {
                *calls += 1;
            }
            let end = micros_of(request.end_time.as_ref());
            let offset: usize = request.page_token.parse().unwrap_or(0);
            let size = usize::try_from(request.page_size).unwrap_or(0);
            let matching: Vec<&(i64, String)> = self.rows.iter().filter(|(m, _)| *m < end).collect();
            let entries = matching
                .iter()
                .skip(offset)
                .take(size)
                .map(|(m, id)| AuditLogEntry {
                    id: id.clone(),
                    service: self.name.into(),
                    created_at: Some(timestamp_of(*m)),
                    ..Default::default()
                })
                .collect();
            let next = if matching.len() > offset + size { (offset + size).to_string() } else { String::new() };
            Ok(AuditListPage { entries, next_page_token: next })
        }
    }

    fn id(n: u32) -> String {
        format!("01J{n:023}")
    }

    async fn walk(sources: &[&dyn AuditSource<String>], size: usize) -> Result<Vec<Vec<String>>, String> {
        let query = TrailQuery { user_id: String::new(), start_time: None, end_time: timestamp_of(1_000_000) };
        let mut pages = Vec::new();
        let mut after = None;
        loop {
            let (entries, next) = merged_page(sources, &query, size, after.as_ref()).await?;
            pages.push(entries.iter().map(|e| format!("{}:{}", e.service, e.id)).collect());
            match next {
                Some(position) => after = Some(position),
                None => return Ok(pages),
            }
        }
    }

    #[tokio::test]
    async fn pages_merge_newest_first_without_gaps_or_repeats_even_within_one_microsecond() -> Result<(), String> {
        // Many entries share microsecond 500, across both services.
        let a = Log::new("billing", &[(900, &id(9)), (500, &id(5)), (500, &id(3)), (500, &id(1)), (100, &id(10))]);
        let b = Log::new("content", &[(700, &id(7)), (500, &id(4)), (500, &id(2)), (500, &id(6)), (50, &id(11))]);
        let sources: [&dyn AuditSource<String>; 2] = [&a, &b];
        let all: Vec<String> = walk(&sources, 100).await?.concat();
        let expected: Vec<String> = [
            ("billing", 9),
            ("content", 7),
            ("content", 6),
            ("billing", 5),
            ("content", 4),
            ("billing", 3),
            ("content", 2),
            ("billing", 1),
            ("billing", 10),
            ("content", 11),
        ]
        .iter()
        .map(|(s, n)| format!("{s}:{}", id(*n)))
        .collect();
        assert_eq!(all, expected);
        for size in 1..=4 {
            let pages = walk(&sources, size).await?;
            assert!(pages.iter().all(|p| p.len() <= size));
            assert_eq!(pages.concat(), expected, "page size {size}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn the_last_page_has_no_position_and_a_failure_is_returned() -> Result<(), String> {
        let a = Log::new("identity", &[(10, &id(1)), (20, &id(2))]);
        let sources: [&dyn AuditSource<String>; 1] = [&a];
        let query = TrailQuery { user_id: String::new(), start_time: None, end_time: timestamp_of(1_000) };
        let (entries, next) = merged_page(&sources, &query, 2, None).await?;
        assert_eq!((entries.len(), next), (2, None));
        let (_, next) = merged_page(&sources, &query, 1, None).await?;
        assert_eq!(next.map(|p| p.id), Some(id(2)));

        struct Down;
        #[tonic::async_trait]
        impl AuditSource<String> for Down {
            fn service(&self) -> &'static str {
                "progress"
            }
            async fn page(&self, _: AuditListRequest) -> Result<AuditListPage, String> {
                Err("down".into())
            }
        }
        let sources: [&dyn AuditSource<String>; 2] = [&a, &Down];
        assert_eq!(merged_page(&sources, &query, 2, None).await.err(), Some("down".to_owned()));
        Ok(())
    }

    #[test]
    fn positions_round_trip_as_parts_and_refuse_garbage() {
        let position = TrailPosition { micros: -5, id: id(3), service: "billing".into() };
        assert_eq!(TrailPosition::from_parts(&position.to_parts()), Some(position));
        assert!(TrailPosition::from_parts(&["x".into(), id(3), "billing".into()]).is_none());
        assert!(TrailPosition::from_parts(&["1".into(), "nope".into(), "billing".into()]).is_none());
        assert!(TrailPosition::from_parts(&["1".into(), id(3), "Bill|ing".into()]).is_none());
        assert_eq!(timestamp_of(-1), Timestamp { seconds: -1, nanos: 999_999_000 });
        assert_eq!(micros_of(Some(&timestamp_of(-1))), -1);
    }
}
