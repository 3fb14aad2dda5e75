//! `jazz.content.v1.ContentService` (public): the trait impl only checks the
//! caller and hands each method to its module (`generate`, `library`,
//! `feed`, `social`, `saved`, `export`).

use jazz_contract::jazz::content::v1::content_service_server::ContentService;
use jazz_contract::jazz::content::v1::*;
use jazz_platform::ServiceContext;
use jazz_platform::as_user;
use jazz_platform::principal::principal_of;
use tonic::{Request, Response, Status};

use super::{export, feed, generate, library, saved, social};
use crate::billing::Quota;
use jazz_platform::page_token::PageSigner;

/// Handlers of `ContentService`.
pub struct ContentApi {
    /// Pool, key and configuration.
    pub(super) context: ServiceContext,
    /// Billing's quota methods.
    pub(super) quota: Quota,
    /// Signs page tokens.
    pub(super) pages: PageSigner,
}

impl ContentApi {
    /// Handlers over the service's shared context and billing client.
    pub fn new(context: ServiceContext, quota: Quota) -> Self {
        let pages = PageSigner::new(&context.config.principal_secret, "content");
        Self { context, quota, pages }
    }
}

#[tonic::async_trait]
impl ContentService for ContentApi {
    async fn generate_content(
        &self,
        request: Request<GenerateContentRequest>,
    ) -> Result<Response<GenerateContentResponse>, Status> {
        as_user!(self, request, generate::generate)
    }

    async fn get_content(&self, request: Request<GetContentRequest>) -> Result<Response<GetContentResponse>, Status> {
        as_user!(self, request, library::get)
    }

    async fn batch_get_content(
        &self,
        request: Request<BatchGetContentRequest>,
    ) -> Result<Response<BatchGetContentResponse>, Status> {
        as_user!(self, request, library::batch_get)
    }

    async fn list_my_content(
        &self,
        request: Request<ListMyContentRequest>,
    ) -> Result<Response<ListMyContentResponse>, Status> {
        as_user!(self, request, library::list_mine)
    }

    async fn update_content(
        &self,
        request: Request<UpdateContentRequest>,
    ) -> Result<Response<UpdateContentResponse>, Status> {
        as_user!(self, request, library::update)
    }

    async fn delete_content(
        &self,
        request: Request<DeleteContentRequest>,
    ) -> Result<Response<DeleteContentResponse>, Status> {
        as_user!(self, request, library::delete)
    }

    async fn undelete_content(
        &self,
        request: Request<UndeleteContentRequest>,
    ) -> Result<Response<UndeleteContentResponse>, Status> {
        as_user!(self, request, library::undelete)
    }

    async fn export_content(
        &self,
        request: Request<ExportContentRequest>,
    ) -> Result<Response<ExportContentResponse>, Status> {
        as_user!(self, request, export::export)
    }

    async fn transpose_content(
        &self,
        request: Request<TransposeContentRequest>,
    ) -> Result<Response<TransposeContentResponse>, Status> {
        as_user!(self, request, export::transpose)
    }

    async fn search_content(
        &self,
        request: Request<SearchContentRequest>,
    ) -> Result<Response<SearchContentResponse>, Status> {
        as_user!(self, request, feed::search)
    }

    async fn list_public_content(
        &self,
        request: Request<ListPublicContentRequest>,
    ) -> Result<Response<ListPublicContentResponse>, Status> {
        // Anonymous callers may read the feed: no user required.
        let principal = principal_of(&request)?.clone();
        let message = request.into_inner();
        Ok(Response::new(feed::list_public(self, principal.user_id, message).await?))
    }

    async fn like_content(
        &self,
        request: Request<LikeContentRequest>,
    ) -> Result<Response<LikeContentResponse>, Status> {
        as_user!(self, request, social::like)
    }

    async fn unlike_content(
        &self,
        request: Request<UnlikeContentRequest>,
    ) -> Result<Response<UnlikeContentResponse>, Status> {
        as_user!(self, request, social::unlike)
    }

    async fn record_view(&self, request: Request<RecordViewRequest>) -> Result<Response<RecordViewResponse>, Status> {
        as_user!(self, request, social::view)
    }

    async fn save_content(
        &self,
        request: Request<SaveContentRequest>,
    ) -> Result<Response<SaveContentResponse>, Status> {
        as_user!(self, request, saved::save)
    }

    async fn update_saved_content(
        &self,
        request: Request<UpdateSavedContentRequest>,
    ) -> Result<Response<UpdateSavedContentResponse>, Status> {
        as_user!(self, request, saved::update)
    }

    async fn unsave_content(
        &self,
        request: Request<UnsaveContentRequest>,
    ) -> Result<Response<UnsaveContentResponse>, Status> {
        as_user!(self, request, saved::unsave)
    }

    async fn list_saved_content(
        &self,
        request: Request<ListSavedContentRequest>,
    ) -> Result<Response<ListSavedContentResponse>, Status> {
        as_user!(self, request, saved::list)
    }

    async fn list_collections(
        &self,
        request: Request<ListCollectionsRequest>,
    ) -> Result<Response<ListCollectionsResponse>, Status> {
        as_user!(self, request, saved::collections)
    }
}
