//! `jazz.progress.v1.MetricsAdminService` (internal: service principals
//! only): reading `system_metrics` (raw points or epoch-aligned buckets,
//! filtered by dimensions) and running the daily job for a day on demand.

use chrono::{Duration, Utc};
use jazz_contract::jazz::progress::v1::metrics_admin_service_server::MetricsAdminService;
use jazz_contract::jazz::progress::v1::{
    ListMetricNamesRequest, ListMetricNamesResponse, MetricAggregation, MetricInfo, MetricPoint, NamedMetricPoint,
    QueryMetricsRequest, QueryMetricsResponse, RecordDailyMetricsRequest, RecordDailyMetricsResponse,
};
use jazz_platform::ServiceContext;
use jazz_platform::daily::UtcDay;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::fields::{page_size_within, time, timestamp};
use jazz_platform::json::{json_to_struct, struct_to_json};
use jazz_platform::page_token::{PageSigner, last_of_page};
use jazz_platform::principal::principal_of;
use tonic::{Request, Response, Status};

use super::page;
use crate::domain::metrics::NewPoint;
use crate::error::ProgressError;
use crate::metrics_job::MetricsJob;
use crate::peers::Peers;
use crate::store::metrics::{self as store, Aggregate, Range};

/// Shortest bucket.
const MIN_BUCKET: Duration = Duration::minutes(1);
/// Longest bucket.
const MAX_BUCKET: Duration = Duration::days(366);

/// Handlers of `MetricsAdminService`.
pub struct MetricsAdminApi {
    context: ServiceContext,
    job: MetricsJob,
    pages: PageSigner,
}

impl MetricsAdminApi {
    /// Handlers over the service's shared context; the job asks `peers`.
    pub fn new(context: ServiceContext, peers: Peers) -> Self {
        let pages = PageSigner::new(&context.config.principal_secret, "progress");
        let job = MetricsJob::new(context.pool.clone(), peers);
        Self { context, job, pages }
    }

    async fn query(&self, req: QueryMetricsRequest) -> Result<QueryMetricsResponse, ProgressError> {
        let QueryMetricsRequest {
            metric_name,
            start_time,
            end_time,
            bucket,
            aggregation,
            dimensions_filter,
            page_size,
            page_token,
        } = req;
        let mut v = Violations::new();
        if metric_name.is_empty() || metric_name.len() > 100 {
            v.push(FieldViolation::new("metric_name", "must be 1-100 characters"));
        }
        let start = v.check(time("start_time", start_time.as_ref())).flatten();
        if start_time.is_none() {
            v.push(FieldViolation::new("start_time", "is required"));
        }
        let end = v.check(time("end_time", end_time.as_ref())).flatten().unwrap_or_else(Utc::now);
        if start.is_some_and(|start| end < start) {
            v.push(FieldViolation::new("end_time", "must not be before start_time"));
        }
        let width = bucket.map(|b| Duration::seconds(b.seconds) + Duration::nanoseconds(i64::from(b.nanos)));
        if width.is_some_and(|w| !(MIN_BUCKET..=MAX_BUCKET).contains(&w)) {
            v.push(FieldViolation::new("bucket", "must be between 1 minute and 366 days"));
        }
        let aggregate = v.check(aggregate(aggregation));
        let filter = match dimensions_filter.as_ref() {
            None => None,
            Some(filter) => v.check(struct_to_json("dimensions_filter", filter)),
        };
        let size = v.check(page_size_within(page_size, 1000, 10_000));
        v.finish().map_err(ProgressError::Invalid)?;
        let (Some(start), Some(aggregate), Some(size)) = (start, aggregate, size) else {
            return Err(ProgressError::Invalid(Vec::new()));
        };
        // Bound to every argument, so a token cannot be replayed on another query.
        let binding = format!(
            "metrics:{metric_name}:{}:{}:{:?}:{aggregation}:{}",
            start.timestamp_micros(),
            end.timestamp_micros(),
            width.map(|w| w.num_microseconds()),
            filter.as_ref().map(ToString::to_string).unwrap_or_default()
        );
        let after = page::position(&self.pages, &binding, &page_token)?;
        let mut conn = self.context.pool.get().await?;
        let mut range = Range { name: &metric_name, start, end, dimensions: filter.as_ref() };
        let (points, last) = match width {
            None => {
                let mut rows = store::points(&mut conn, &range, after, size + 1).await?;
                let last = last_of_page(&mut rows, size).map(|r| (r.recorded_at, r.id));
                let points = rows
                    .into_iter()
                    .map(|r| MetricPoint {
                        time: Some(timestamp(r.recorded_at)),
                        value: r.value,
                        dimensions: r.dimensions.as_ref().map(json_to_struct),
                    })
                    .collect();
                (points, last)
            }
            Some(width) => {
                // Buckets are aligned, so the next page starts one bucket
                // after the last one shown.
                if let Some((at, _)) = after {
                    range.start = range.start.max(at + width);
                }
                let seconds = width.as_seconds_f64();
                let mut rows = store::buckets(&mut conn, &range, seconds, aggregate, size + 1).await?;
                let last = last_of_page(&mut rows, size).map(|r| (r.start, uuid::Uuid::nil()));
                let points = rows
                    .into_iter()
                    .map(|r| MetricPoint {
                        time: Some(timestamp(r.start)),
                        value: r.value,
                        dimensions: dimensions_filter.clone(),
                    })
                    .collect();
                (points, last)
            }
        };
        let next_page_token = last.map(|(at, id)| page::token(&self.pages, &binding, at, id)).unwrap_or_default();
        Ok(QueryMetricsResponse { points, next_page_token })
    }

    async fn names(&self, req: ListMetricNamesRequest) -> Result<ListMetricNamesResponse, ProgressError> {
        let size = page_size_within(req.page_size, 50, 200)?;
        let after = if req.page_token.is_empty() {
            None
        } else {
            let parts = self.pages.decode("metric-names", &req.page_token, 1)?;
            parts.into_iter().next()
        };
        let mut conn = self.context.pool.get().await?;
        let mut rows = store::names(&mut conn, after.as_deref(), size + 1).await?;
        let next_page_token = last_of_page(&mut rows, size)
            .map(|(name, _)| self.pages.encode("metric-names", std::slice::from_ref(name)))
            .unwrap_or_default();
        let metrics =
            rows.into_iter().map(|(name, last)| MetricInfo { name, last_recorded_at: last.map(timestamp) }).collect();
        Ok(ListMetricNamesResponse { metrics, next_page_token })
    }

    async fn record(
        &self,
        principal: &jazz_platform::Principal,
        req: RecordDailyMetricsRequest,
    ) -> Result<RecordDailyMetricsResponse, ProgressError> {
        let day = if req.date.is_empty() { UtcDay::yesterday() } else { UtcDay::parse("date", &req.date)? };
        if day.start > Utc::now() {
            return Err(ProgressError::Invalid(vec![FieldViolation::new("date", "must not be in the future")]));
        }
        let points = self.job.record(principal, day).await?;
        Ok(RecordDailyMetricsResponse { date: day.to_api(), points: points.iter().map(|p| point(day, p)).collect() })
    }
}

fn point(day: UtcDay, p: &NewPoint) -> NamedMetricPoint {
    NamedMetricPoint {
        metric_name: p.name.clone(),
        point: Some(MetricPoint {
            time: Some(timestamp(day.start)),
            value: p.value,
            dimensions: p.dimensions.as_ref().map(json_to_struct),
        }),
    }
}

fn aggregate(value: i32) -> Result<Aggregate, FieldViolation> {
    match MetricAggregation::try_from(value) {
        Ok(MetricAggregation::Unspecified | MetricAggregation::Average) => Ok(Aggregate::Average),
        Ok(MetricAggregation::Sum) => Ok(Aggregate::Sum),
        Ok(MetricAggregation::Min) => Ok(Aggregate::Min),
        Ok(MetricAggregation::Max) => Ok(Aggregate::Max),
        Ok(MetricAggregation::Count) => Ok(Aggregate::Count),
        Ok(MetricAggregation::Last) => Ok(Aggregate::Last),
        Err(_) => Err(FieldViolation::new("aggregation", "is not a known aggregation")),
    }
}

#[tonic::async_trait]
impl MetricsAdminService for MetricsAdminApi {
    async fn query_metrics(
        &self,
        request: Request<QueryMetricsRequest>,
    ) -> Result<Response<QueryMetricsResponse>, Status> {
        principal_of(&request)?.require_service()?;
        Ok(Response::new(self.query(request.into_inner()).await?))
    }

    async fn list_metric_names(
        &self,
        request: Request<ListMetricNamesRequest>,
    ) -> Result<Response<ListMetricNamesResponse>, Status> {
        principal_of(&request)?.require_service()?;
        Ok(Response::new(self.names(request.into_inner()).await?))
    }

    async fn record_daily_metrics(
        &self,
        request: Request<RecordDailyMetricsRequest>,
    ) -> Result<Response<RecordDailyMetricsResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        Ok(Response::new(self.record(&principal, request.into_inner()).await?))
    }
}
