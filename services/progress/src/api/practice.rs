//! `jazz.progress.v1.PracticeService` (public): the trait impl checks the
//! caller and hands each method to `sessions`, `records`, `scoring` or
//! `scoring_stream`.

use jazz_contract::jazz::progress::v1::practice_service_server::PracticeService;
use jazz_contract::jazz::progress::v1::{
    AddPracticeRecordRequest, AddPracticeRecordResponse, EndPracticeSessionRequest, EndPracticeSessionResponse,
    GetPracticeSessionRequest, GetPracticeSessionResponse, ListPracticeSessionsRequest, ListPracticeSessionsResponse,
    ScorePerformanceRequest, ScorePerformanceResponse, ScorePerformanceStreamRequest, StartPracticeSessionRequest,
    StartPracticeSessionResponse,
};
use jazz_platform::ServiceContext;
use jazz_platform::as_user;
use jazz_platform::principal::principal_of;
use tonic::{Request, Response, Status, Streaming};

use super::{records, scoring, scoring_stream, sessions};
use crate::peers::Peers;
use jazz_platform::page_token::PageSigner;

/// Handlers of `PracticeService` (cloned into a streaming call's task).
#[derive(Clone)]
pub struct PracticeApi {
    /// Pool, key and configuration.
    pub(super) context: ServiceContext,
    /// Content and identity.
    pub(super) peers: Peers,
    /// Signs page tokens.
    pub(super) pages: PageSigner,
}

impl PracticeApi {
    /// Handlers over the service's shared context and peer clients.
    pub fn new(context: ServiceContext, peers: Peers) -> Self {
        let pages = PageSigner::new(&context.config.principal_secret, "progress");
        Self { context, peers, pages }
    }
}

#[tonic::async_trait]
impl PracticeService for PracticeApi {
    async fn start_practice_session(
        &self,
        request: Request<StartPracticeSessionRequest>,
    ) -> Result<Response<StartPracticeSessionResponse>, Status> {
        as_user!(self, request, sessions::start)
    }

    async fn add_practice_record(
        &self,
        request: Request<AddPracticeRecordRequest>,
    ) -> Result<Response<AddPracticeRecordResponse>, Status> {
        as_user!(self, request, records::add)
    }

    async fn end_practice_session(
        &self,
        request: Request<EndPracticeSessionRequest>,
    ) -> Result<Response<EndPracticeSessionResponse>, Status> {
        as_user!(self, request, sessions::end)
    }

    async fn get_practice_session(
        &self,
        request: Request<GetPracticeSessionRequest>,
    ) -> Result<Response<GetPracticeSessionResponse>, Status> {
        as_user!(self, request, sessions::get)
    }

    async fn list_practice_sessions(
        &self,
        request: Request<ListPracticeSessionsRequest>,
    ) -> Result<Response<ListPracticeSessionsResponse>, Status> {
        as_user!(self, request, sessions::list)
    }

    async fn score_performance(
        &self,
        request: Request<ScorePerformanceRequest>,
    ) -> Result<Response<ScorePerformanceResponse>, Status> {
        as_user!(self, request, scoring::score)
    }

    async fn score_performance_stream(
        &self,
        request: Request<Streaming<ScorePerformanceStreamRequest>>,
    ) -> Result<Response<scoring_stream::Replies>, Status> {
        let principal = principal_of(&request)?.clone();
        let me = principal.require_user()?;
        Ok(Response::new(scoring_stream::start(self.clone(), principal, me, request.into_inner())))
    }
}
